using System.Security.Cryptography;
using System.Text;
using ConnText.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace ConnText.Server.Auth;

/// <summary>
/// The keys that protect tokens, generated on first run and kept as files readable only by the server's user in
/// <c>{DataDirectory}/keys</c>. Several server nodes share them by sharing the data directory (or copying the files).
/// The server's own tokens are signed with ECDSA P-256 (<c>token-signing-es256.pem</c>) and encrypted with a 256-bit
/// AES key-wrap key (<c>token-encryption-a256.key</c>): each costs microseconds, where the RSA-3072 keys of earlier
/// versions cost 1.8 ms of CPU per signature or decryption (ADR 0021). Those RSA keys, when present, still validate
/// and decrypt the tokens issued with them.
/// </summary>
internal static class SigningKeys
{
    /// <summary>The ECDSA P-256 key <paramref name="name"/>.pem, created when missing.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000",
        Justification = "Ownership of the key passes to the ECDsaSecurityKey, which lives as long as the server.")]
    public static ECDsaSecurityKey LoadOrCreateEcdsa(string dataDirectory, string name)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(ReadOrCreate(dataDirectory, $"{name}.pem", () =>
            {
                using var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                return created.ExportPkcs8PrivateKeyPem();
            }));
            if (ecdsa.KeySize != 256)
            {
                throw new CryptographicException("not a P-256 key");
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            ecdsa.Dispose();
            throw Unreadable(dataDirectory, name, ex);
        }

        var point = ecdsa.ExportParameters(includePrivateParameters: false).Q;
        return new ECDsaSecurityKey(ecdsa) { KeyId = KeyId([.. point.X!, .. point.Y!]) };
    }

    /// <summary>The 256-bit symmetric key <paramref name="name"/>.key (base64), created when missing.</summary>
    public static SymmetricSecurityKey LoadOrCreateSymmetric(string dataDirectory, string name)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(ReadOrCreate(dataDirectory, $"{name}.key",
                () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Trim());
            if (key.Length != 32)
            {
                throw new FormatException("not a 256-bit key");
            }
        }
        catch (FormatException ex)
        {
            throw Unreadable(dataDirectory, name, ex);
        }

        // The id names the key without revealing it: a hash of a fixed label and the key.
        return new SymmetricSecurityKey(key) { KeyId = KeyId([.. "conntext-kid:"u8, .. key]) };
    }

    /// <summary>The RSA key <paramref name="name"/>.pem, created (3072 bits) when missing.</summary>
    public static RsaSecurityKey LoadOrCreate(string dataDirectory, string name) =>
        LoadRsa(dataDirectory, name, create: true)!;

    /// <summary>The RSA key <paramref name="name"/>.pem of an earlier version, or null when there is none.</summary>
    public static RsaSecurityKey? LoadExisting(string dataDirectory, string name) =>
        LoadRsa(dataDirectory, name, create: false);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000",
        Justification = "Ownership of the RSA key passes to the RsaSecurityKey, which lives as long as the server.")]
    private static RsaSecurityKey? LoadRsa(string dataDirectory, string name, bool create)
    {
        if (!create && !File.Exists(Path.Combine(dataDirectory, "keys", $"{name}.pem")))
        {
            return null;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(ReadOrCreate(dataDirectory, $"{name}.pem", () =>
            {
                using var created = RSA.Create(3072);
                return created.ExportPkcs8PrivateKeyPem();
            }));
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw Unreadable(dataDirectory, name, ex);
        }

        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return new RsaSecurityKey(rsa) { KeyId = KeyId([.. parameters.Modulus!, .. parameters.Exponent!]) };
    }

    /// <summary>The file's text; when it does not exist, <paramref name="create"/>'s, written owner-only first.</summary>
    private static string ReadOrCreate(string dataDirectory, string fileName, Func<string> create)
    {
        var directory = Path.Combine(dataDirectory, "keys");
        var path = Path.Combine(directory, fileName);
        try
        {
            if (File.Exists(path))
            {
                return File.ReadAllText(path);
            }

            Directory.CreateDirectory(directory);
            var text = create();
            var temporary = path + ".tmp";
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // Created owner-only, never briefly world-readable.
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, fileOptions))
            using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                writer.Write(text);
            }

            // Two nodes starting at once on a shared directory: the first complete file wins.
            try
            {
                File.Move(temporary, path, overwrite: false);
                return text;
            }
            catch (IOException)
            {
                File.Delete(temporary);
                return File.ReadAllText(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(dataDirectory, Path.GetFileNameWithoutExtension(fileName), ex);
        }
    }

    private static StartupException Unreadable(string dataDirectory, string name, Exception ex) =>
        new("ConnText:DataDirectory", $"cannot read or create the {name} key in '{Path.Combine(dataDirectory, "keys")}': {ex.Message}", ex);

    // A stable key id (a hash of the public key) so clients caching the JWKS match tokens to keys across restarts.
    private static string KeyId(byte[] material) => Base64UrlEncoder.Encode(SHA256.HashData(material).AsSpan(0, 16).ToArray());
}
