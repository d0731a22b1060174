using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Hosting;

/// <summary>HTTPS with an operator's certificate, and a client that trusts exactly that certificate.</summary>
public sealed class HttpsTests
{
    [Fact]
    public async Task ConfiguredCertificate_ServesHttps_ToAClientTrustingOnlyIt()
    {
        using var certificate = CreateCertificate();
        var pfxPath = Path.Combine(Path.GetTempPath(), $"conntext-test-{Guid.NewGuid():N}.pfx");
        const string password = "test-pfx-password";
        await File.WriteAllBytesAsync(pfxPath, certificate.Export(X509ContentType.Pfx, password));
        try
        {
            await using var server = await ServerInstance.StartAsync(Provider.Sqlite, new Dictionary<string, string?>
            {
                ["Urls"] = null,
                ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
                ["Kestrel:Endpoints:Https:Certificate:Path"] = pfxPath,
                ["Kestrel:Endpoints:Https:Certificate:Password"] = password,
            });
            Assert.Equal("https", server.Address.Scheme);

            using var trusting = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    CertificateChainPolicy = new X509ChainPolicy
                    {
                        TrustMode = X509ChainTrustMode.CustomRootTrust,
                        CustomTrustStore = { X509CertificateLoader.LoadCertificate(certificate.RawData) },
                        RevocationMode = X509RevocationMode.NoCheck,
                    },
                },
            }) { BaseAddress = server.Address };

            using var response = await trusting.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.Contains("Strict-Transport-Security"), "HTTPS responses carry HSTS");

            // A client with only the system's trust store refuses the connection.
            using var untrusting = new HttpClient { BaseAddress = server.Address };
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("/health/live"));
            Assert.IsType<AuthenticationException>(error.InnerException);
        }
        finally
        {
            File.Delete(pfxPath);
        }
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=conntext-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
