using ConnText.Desktop.Tests.Infrastructure;

namespace ConnText.Desktop.Tests.Hosting;

public sealed class SingleInstanceTests
{
    [Fact]
    public async Task SecondLaunch_SameDataDirectory_AsksTheFirstForItsWindowAndExits()
    {
        await using var first = await DesktopProcess.StartAsync();

        await using var second = DesktopProcess.Launch(first.DataDirectory);
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("already running", second.Output, StringComparison.Ordinal);

        // Headless, "open the window" prints the URL again: the same server and secret.
        var again = await first.NextUrlAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(first.LaunchUrl.AbsoluteUri, again);
        Assert.False(first.HasExited);
    }

    [Fact]
    public async Task DataDirectory_IsOwnerOnly()
    {
        // A directory that does not exist yet: the desktop creates it (a temp directory would be 0700 already).
        var parent = Directory.CreateTempSubdirectory("conntext-desktop-").FullName;
        File.SetUnixFileMode(parent, (UnixFileMode)0x1ED); // 0755, like a home directory
        var data = Path.Combine(parent, "conntext");
        try
        {
            await using var desktop = await DesktopProcess.StartAsync(data);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
