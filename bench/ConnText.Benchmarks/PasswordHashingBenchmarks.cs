using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ConnText.Benchmarks;

/// <summary>
/// Cost of one password hash with ASP.NET Core Identity's PBKDF2-HMAC-SHA512 at the iteration counts we
/// consider (docs/adr/0008). Verifying costs the same as hashing: it recomputes the hash.
/// </summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 2, iterationCount: 10)]
[MemoryDiagnoser]
public class PasswordHashingBenchmarks
{
    private PasswordHasher<IdentityUser> hasher = null!;
    private string hash = "";
    private readonly IdentityUser user = new("alice");

    [Params(100_000, 210_000, 600_000)]
    public int Iterations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        hasher = new PasswordHasher<IdentityUser>(Options.Create(new PasswordHasherOptions
        {
            CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
            IterationCount = Iterations,
        }));
        hash = hasher.HashPassword(user, "correct horse battery staple");
    }

    [Benchmark]
    public string Hash() => hasher.HashPassword(user, "correct horse battery staple");

    [Benchmark]
    public PasswordVerificationResult Verify() => hasher.VerifyHashedPassword(user, hash, "correct horse battery staple");
}
