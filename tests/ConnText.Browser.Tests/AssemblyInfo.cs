// Like ConnText.Server.Tests (whose helpers these tests use): the real server, PostgreSQL and Debian's Chromium,
// as scripts/test.sh sets them up on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
