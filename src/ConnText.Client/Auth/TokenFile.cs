using System.Text.Json;

namespace ConnText.Client.Auth;

/// <summary>
/// Keeps an account's tokens in a file only the user can read (mode 0600 on Unix), replaced atomically so a crash
/// never leaves half a file (a lost refresh token would sign the account out).
/// </summary>
public sealed class TokenFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock gate = new();

    /// <summary>Creates the store for the file at <paramref name="path"/>; nothing is read or written yet.</summary>
    public TokenFile(string path) => Path = path;

    /// <summary>Where the tokens are kept.</summary>
    public string Path { get; }

    /// <summary>The stored tokens, or <see langword="null"/> when there are none (or the file is unreadable).</summary>
    public TokenSet? Read()
    {
        lock (gate)
        {
            try
            {
                return JsonSerializer.Deserialize<TokenSet>(File.ReadAllText(Path), Json);
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    /// <summary>Replaces the stored tokens.</summary>
    public void Write(TokenSet tokens)
    {
        lock (gate)
        {
            var directory = System.IO.Path.GetDirectoryName(Path)!;
            OwnerOnly.CreateDirectory(directory);
            var temporary = Path + ".tmp";
            OwnerOnly.WriteAllText(temporary, JsonSerializer.Serialize(tokens, Json));
            File.Move(temporary, Path, overwrite: true);
        }
    }

    /// <summary>Removes the stored tokens (sign-out).</summary>
    public void Delete()
    {
        lock (gate)
        {
            File.Delete(Path);
        }
    }
}

/// <summary>Files and directories that only their owner can read (0600 / 0700 on Unix).</summary>
public static class OwnerOnly
{
    /// <summary>Owner read and write: the mode of token and key files.</summary>
    public const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Owner read, write and search: the mode of the data directories.</summary>
    public const UnixFileMode DirectoryPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> (and parents) if missing, owner-only.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, DirectoryPermissions);
        }
    }

    /// <summary>Writes <paramref name="text"/> to a file created owner-only from the first byte (no window where others can read it).</summary>
    public static void WriteAllText(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FilePermissions;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to a new file; an existing one keeps whatever mode it had.
            File.SetUnixFileMode(path, FilePermissions);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to a file created owner-only.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FilePermissions;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(bytes);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, FilePermissions);
        }
    }
}
