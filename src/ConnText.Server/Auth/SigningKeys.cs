using System.Security.Cryptography;
using ConnText.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace ConnText.Server.Auth;

/// <summary>
/// The token signing and encryption keys: RSA 3072, generated on first run and kept as PKCS#8 PEM
/// files readable only by the server's user in <c>{DataDirectory}/keys</c>. Several server nodes
/// share them by sharing the data directory (or copying the files).
/// </summary>
internal static class SigningKeys
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000",
        Justification = "Ownership of the RSA key passes to the RsaSecurityKey, which lives as long as the server.")]
    public static RsaSecurityKey LoadOrCreate(string dataDirectory, string name)
    {
        var directory = Path.Combine(dataDirectory, "keys");
        var path = Path.Combine(directory, $"{name}.pem");
        var rsa = RSA.Create();
        try
        {
            if (File.Exists(path))
            {
                rsa.ImportFromPem(File.ReadAllText(path));
            }
            else
            {
                Directory.CreateDirectory(directory);
                rsa.KeySize = 3072;
                var pem = rsa.ExportPkcs8PrivateKeyPem();
                var temporary = path + ".tmp";
                var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    // Created owner-only, never briefly world-readable.
                    fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var stream = new FileStream(temporary, fileOptions))
                using (var writer = new StreamWriter(stream))
                {
                    writer.Write(pem);
                }

                // Two nodes starting at once on a shared directory: the first complete file wins.
                try
                {
                    File.Move(temporary, path, overwrite: false);
                }
                catch (IOException)
                {
                    File.Delete(temporary);
                    rsa.ImportFromPem(File.ReadAllText(path));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new StartupException("ConnText:DataDirectory", $"cannot read or create the {name} key '{path}': {ex.Message}", ex);
        }

        return new RsaSecurityKey(rsa) { KeyId = KeyId(rsa) };
    }

    // A stable key id (the JWK thumbprint's hash) so clients caching the JWKS match tokens to keys across restarts.
    private static string KeyId(RSA rsa)
    {
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var hash = SHA256.HashData([.. parameters.Modulus!, .. parameters.Exponent!]);
        return Base64UrlEncoder.Encode(hash.AsSpan(0, 16).ToArray());
    }
}
