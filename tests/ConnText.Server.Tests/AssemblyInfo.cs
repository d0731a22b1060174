// The integration tests run the real server and PostgreSQL as a Linux user would (scripts/test.sh).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
