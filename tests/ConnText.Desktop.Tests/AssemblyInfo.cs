// The desktop host runs on Linux here (Unix sockets, file modes, Debian's Chromium), as scripts/test.sh sets it up.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
