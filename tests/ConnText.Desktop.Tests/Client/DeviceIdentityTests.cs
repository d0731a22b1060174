using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConnText.Client.Devices;

namespace ConnText.Desktop.Tests.Client;

/// <summary>The device key pair: created once, owner-only, P-256, self-signed, stable across starts, replaced when unusable.</summary>
public sealed class DeviceIdentityTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("conntext-device-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void LoadOrCreate_FirstRun_CreatesAnOwnerOnlySelfSignedP256Certificate()
    {
        var identity = DeviceIdentity.LoadOrCreate(directory, "laptop");

        using var certificate = X509CertificateLoader.LoadCertificate(identity.Certificate.Span);
        using var key = certificate.GetECDsaPublicKey()!;
        Assert.Equal(ECCurve.NamedCurves.nistP256.Oid.Value, key.ExportParameters(false).Curve.Oid.Value);
        Assert.Equal(certificate.SubjectName.Name, certificate.IssuerName.Name);
        Assert.Contains("laptop", certificate.Subject, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())), identity.Fingerprint);

        var device = Path.Combine(directory, "device");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(device));
        foreach (var file in Directory.GetFiles(device))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        // The private key on disk signs what the certificate's key verifies.
        using var stored = ECDsa.Create();
        stored.ImportFromPem(File.ReadAllText(Path.Combine(device, "device-key.pem")));
        var signature = stored.SignData("proof"u8, HashAlgorithmName.SHA256);
        Assert.True(key.VerifyData("proof"u8, signature, HashAlgorithmName.SHA256));
    }

    [Fact]
    public void LoadOrCreate_LaterStarts_KeepTheSameKey()
    {
        var first = DeviceIdentity.LoadOrCreate(directory, "laptop");
        var again = DeviceIdentity.LoadOrCreate(directory, "renamed");
        Assert.Equal(first.Fingerprint, again.Fingerprint);
        Assert.True(first.Certificate.Span.SequenceEqual(again.Certificate.Span));
    }

    [Fact]
    public void LoadOrCreate_CertificateAndKeyDoNotMatch_CreatesANewIdentity()
    {
        var first = DeviceIdentity.LoadOrCreate(directory, "laptop");
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(Path.Combine(directory, "device", "device-key.pem"), other.ExportPkcs8PrivateKeyPem());

        var replaced = DeviceIdentity.LoadOrCreate(directory, "laptop");
        Assert.NotEqual(first.Fingerprint, replaced.Fingerprint);
        Assert.Equal(replaced.Fingerprint, DeviceIdentity.LoadOrCreate(directory, "laptop").Fingerprint);
    }

    [Fact]
    public void LoadOrCreate_GarbageFiles_CreatesANewIdentity()
    {
        Directory.CreateDirectory(Path.Combine(directory, "device"));
        File.WriteAllText(Path.Combine(directory, "device", "device-key.pem"), "not a key");
        File.WriteAllText(Path.Combine(directory, "device", "device.crt"), "not a certificate");

        var identity = DeviceIdentity.LoadOrCreate(directory, "laptop");
        Assert.Equal(64, identity.Fingerprint.Length);
    }
}
