using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConnText.Client.Auth;

namespace ConnText.Client.Devices;

/// <summary>
/// This device's identity: an ECDSA P-256 key pair created on first run and a self-signed certificate for it, kept in
/// <c>{data directory}/device/</c> with owner-only permissions. The private key never leaves the device; each account
/// registers the certificate with its server as the device of its session.
/// </summary>
public sealed class DeviceIdentity
{
    private const string KeyFile = "device-key.pem";
    private const string CertificateFile = "device.crt";

    private DeviceIdentity(ReadOnlyMemory<byte> certificate, string fingerprint)
    {
        Certificate = certificate;
        Fingerprint = fingerprint;
    }

    /// <summary>The self-signed certificate, DER.</summary>
    public ReadOnlyMemory<byte> Certificate { get; }

    /// <summary>SHA-256 of the public key (SubjectPublicKeyInfo), lowercase hex: what the server shows for this device.</summary>
    public string Fingerprint { get; }

    /// <summary>Loads the identity from <paramref name="dataDirectory"/>, creating it on first run (or when the files are unusable).</summary>
    public static DeviceIdentity LoadOrCreate(string dataDirectory, string deviceName)
    {
        var directory = Path.Combine(dataDirectory, "device");
        var keyPath = Path.Combine(directory, KeyFile);
        var certificatePath = Path.Combine(directory, CertificateFile);
        if (File.Exists(keyPath) && File.Exists(certificatePath) && TryLoad(keyPath, certificatePath) is { } loaded)
        {
            return loaded;
        }

        OwnerOnly.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName("ConnText device " + (string.IsNullOrWhiteSpace(deviceName) ? "unnamed" : deviceName.Trim()));
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(20));
        // Key first: a crash between the two writes leaves a key without a certificate, which the next start replaces.
        OwnerOnly.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        OwnerOnly.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        return From(certificate);
    }

    private static DeviceIdentity? TryLoad(string keyPath, string certificatePath)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath); // Fails unless the key matches.
            using var key = certificate.GetECDsaPrivateKey();
            return key?.KeySize == 256 ? From(certificate) : null;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return null; // Unreadable, or a key that does not match the certificate.
        }
    }

    private static DeviceIdentity From(X509Certificate2 certificate) =>
        new(certificate.RawData, Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())));
}
