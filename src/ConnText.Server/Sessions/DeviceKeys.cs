using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ConnText.Server.Sessions;

/// <summary>
/// Checks a device certificate: DER, self-signed (so whoever made it held the private key), ECDSA on P-256. Only its
/// SubjectPublicKeyInfo is kept; names and validity dates in a self-signed certificate prove nothing.
/// </summary>
internal static class DeviceKeys
{
    private const int MaxCertificateBytes = 4096;
    private const string P256 = "1.2.840.10045.3.1.7";
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";

    public static bool TryRead(string? certificate, out byte[] publicKey, out string error)
    {
        publicKey = [];
        byte[] der;
        try
        {
            der = Convert.FromBase64String(certificate ?? "");
        }
        catch (FormatException)
        {
            error = "Give the certificate as base64 of its DER encoding.";
            return false;
        }

        if (der.Length is 0 or > MaxCertificateBytes)
        {
            error = $"Give a certificate of 1 to {MaxCertificateBytes} bytes.";
            return false;
        }

        X509Certificate2 parsed;
        try
        {
            parsed = X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException)
        {
            error = "The certificate is not a valid DER-encoded X.509 certificate.";
            return false;
        }

        using (parsed)
        using (var key = parsed.GetECDsaPublicKey())
        {
            if (key is null || key.ExportParameters(false).Curve.Oid.Value != P256)
            {
                error = "The device key must be ECDSA on the P-256 curve.";
                return false;
            }

            if (!IsSelfSigned(parsed, key))
            {
                error = "The certificate must be self-signed by the device key.";
                return false;
            }

            publicKey = parsed.PublicKey.ExportSubjectPublicKeyInfo();
            error = "";
            return true;
        }
    }

    public static string Fingerprint(string encodedPublicKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(encodedPublicKey)));

    /// <summary>Verifies the certificate's signature (ecdsa-with-SHA256) over its to-be-signed part with its own key.</summary>
    private static bool IsSelfSigned(X509Certificate2 certificate, ECDsa key)
    {
        if (!certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return false;
        }

        try
        {
            // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } (RFC 5280 4.1)
            var outer = new AsnReader(certificate.RawData, AsnEncodingRules.DER).ReadSequence();
            var toBeSigned = outer.ReadEncodedValue();
            var algorithm = outer.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != EcdsaWithSha256)
            {
                return false;
            }

            var signature = outer.ReadBitString(out _);
            return key.VerifyData(toBeSigned.Span, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
