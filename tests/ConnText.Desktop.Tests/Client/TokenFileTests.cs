using ConnText.Client.Auth;

namespace ConnText.Desktop.Tests.Client;

public sealed class TokenFileTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("conntext-tokens-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Write_NewFile_IsReadableByTheOwnerOnlyAndRoundTrips()
    {
        var path = Path.Combine(directory, "account", "tokens.json");
        var file = new TokenFile(path);
        var tokens = new TokenSet("access", "refresh", DateTimeOffset.UnixEpoch.AddYears(60));

        file.Write(tokens);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(tokens, new TokenFile(path).Read());
        Assert.DoesNotContain("access", tokens.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_OverAFileOthersCouldRead_MakesItOwnerOnly()
    {
        var path = Path.Combine(directory, "tokens.json");
        File.WriteAllText(path, "{}");
        File.SetUnixFileMode(path, (UnixFileMode)0x1A4); // 0644

        new TokenFile(path).Write(new TokenSet("a", "r", DateTimeOffset.UnixEpoch));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
