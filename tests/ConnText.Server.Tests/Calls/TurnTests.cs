using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Problems;
using ConnText.Server.Calls;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;

namespace ConnText.Server.Tests.Calls;

/// <summary>
/// TURN against a real coturn started with the shipped configuration (scripts/coturn.sh,
/// deploy/coturn/*.conf) and the real <c>turnutils_uclient</c>. Every coturn instance and client runs inside a
/// network namespace this test creates with only loopback up, so no relayed packet can leave the machine even
/// if the configuration were wrong.
/// </summary>
public sealed class TurnTests : IAsyncLifetime
{
    internal const string Secret = "turn-test-secret-0123456789abcdef";
    private ServerInstance server = null!;
    private HttpClient alice = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(Provider.Sqlite, new Dictionary<string, string?>
        {
            ["ConnText:Calls:TurnSecret"] = Secret,
            ["ConnText:Calls:TurnUrls:0"] = "turn:127.0.0.1:3478?transport=udp",
            ["ConnText:Calls:StunUrls:0"] = "stun:127.0.0.1:3478",
        });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Relay_WithServerMintedCredentials_AllocatesAndRelays()
    {
        var (user, password) = await MintedAsync();
        var results = await TurnLab.RunAsync(["test"],
        [
            // Two allocations sending to each other's relay address (client to client through coturn).
            new("relay", "test", "127.0.0.1", user, password, "-y -c -n 10 -z 5"),
            // Through the relay to a UDP echo peer.
            new("echo", "test", "127.0.0.1", user, password, "-c -n 10 -z 5 -e 127.0.0.1 -r 3480"),
        ]);

        foreach (var name in new[] { "relay", "echo" })
        {
            var (rc, output) = results[name];
            Assert.True(rc == 0, $"{name}: exit {rc}\n{output}");
            Assert.True(TurnLab.Received(output) >= 10, $"{name}: nothing came back through the relay\n{output}");
            Assert.Contains("Total lost packets 0", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Allocate_WithForgedOrExpiredCredentials_IsRefused()
    {
        var (user, password) = await MintedAsync();
        var userId = user[(user.IndexOf(':', StringComparison.Ordinal) + 1)..];
        // An attacker extends the expiry of a captured credential: the HMAC no longer matches.
        var extended = $"{DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds()}:{userId}";
        var otherSecret = TurnCredentials.Mint("some-other-secret-0123456789", Guid.Parse(userId), DateTimeOffset.UtcNow.AddHours(1));
        var expired = TurnCredentials.Mint(Secret, Guid.Parse(userId), DateTimeOffset.UtcNow.AddMinutes(-1));
        var results = await TurnLab.RunAsync(["test"],
        [
            new("valid", "test", "127.0.0.1", user, password, "-y -c -n 2 -z 5"),
            new("extended", "test", "127.0.0.1", extended, password, "-y -c -n 2 -z 5"),
            new("wrong-secret", "test", "127.0.0.1", otherSecret.Username, otherSecret.Password, "-y -c -n 2 -z 5"),
            new("expired", "test", "127.0.0.1", expired.Username, expired.Password, "-y -c -n 2 -z 5"),
        ]);

        Assert.True(results["valid"].Rc == 0, results["valid"].Output);
        foreach (var name in new[] { "extended", "wrong-secret", "expired" })
        {
            var (rc, output) = results[name];
            Assert.True(rc != 0, $"{name}: allocated with a bad credential\n{output}");
            Assert.Contains("Cannot complete Allocation", output, StringComparison.Ordinal);
            Assert.Equal(0, TurnLab.Received(output));
        }
    }

    [Fact]
    public async Task HardenedConfig_RelayToLoopbackPrivateOrMetadataAddress_IsRefused()
    {
        var (user, password) = await MintedAsync();
        // A refused permission leaves its allocation open until it times out, and the hardened config allows
        // 12 allocations per user name (user-quota): each case gets its own user's credential, minted by the server's code.
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        string[] ipv4 = ["127.0.0.1", "0.0.0.0", "169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.100.100.200"];
        string[] ipv6 = ["::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::1", "fd00:ec2::254", "fe80::1"];
        var cases = ipv4.Select(peer => Case($"v4 {peer}", "127.0.0.1", $"-c -n 2 -z 5 -e {peer} -r 3480"))
            .Concat(ipv6.Select(peer => Case($"v6 {peer}", "::1", $"-x -c -n 2 -z 5 -e {peer} -r 3480")))
            // The control: the same request to the loopback echo peer passes with the test profile, so a refusal above is the deny list's.
            .Append(new TurnLab.Case("control", "test", "127.0.0.1", user, password, "-c -n 2 -z 5 -e 127.0.0.1 -r 3480"))
            .ToList();
        var results = await TurnLab.RunAsync(["hardened", "test"], cases);

        Assert.True(results["control"].Rc == 0 && TurnLab.Received(results["control"].Output) > 0, results["control"].Output);
        foreach (var item in cases.Where(c => c.Profile == "hardened"))
        {
            var (rc, output) = results[item.Name];
            Assert.True(rc != 0, $"{item.Name}: relayed\n{output}");
            Assert.Contains("403 (Forbidden IP)", output, StringComparison.Ordinal);
            Assert.Equal(0, TurnLab.Received(output));
        }

        TurnLab.Case Case(string name, string server, string flags)
        {
            var (caseUser, casePassword) = TurnCredentials.Mint(Secret, Guid.NewGuid(), expires);
            return new TurnLab.Case(name, "hardened", server, caseUser, casePassword, flags);
        }
    }

    [Fact]
    public async Task IceServers_MintsCoturnRestCredentials_ForTheCaller()
    {
        var before = DateTimeOffset.UtcNow;
        var response = (await alice.GetFromJsonAsync<IceServersResponse>("/api/v1/calls/ice-servers"))!;
        var stun = response.IceServers[0];
        Assert.Equal(["stun:127.0.0.1:3478"], stun.Urls);
        Assert.Null(stun.Credential);
        var turn = response.IceServers[1];
        Assert.Equal(["turn:127.0.0.1:3478?transport=udp"], turn.Urls);
        var parts = turn.Username!.Split(':');
        var expiry = DateTimeOffset.FromUnixTimeSeconds(long.Parse(parts[0], CultureInfo.InvariantCulture));
        Assert.Equal(await alice.MyIdAsync(), Guid.Parse(parts[1]));
        Assert.InRange(expiry, before.AddHours(1).AddSeconds(-5), DateTimeOffset.UtcNow.AddHours(1).AddSeconds(5));
        Assert.Equal(expiry, response.ExpiresAt);
#pragma warning disable CA5350 // the scheme coturn checks
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(turn.Username)));
#pragma warning restore CA5350
        Assert.Equal(expected, turn.Credential);

        using var anonymous = await server.Client.GetAsync("/api/v1/calls/ice-servers");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task IceServers_BeyondThePerUserRate_Is429()
    {
        await using var limited = await ServerInstance.StartAsync(Provider.Sqlite, new Dictionary<string, string?>
        {
            ["ConnText:Calls:IceServersPerMinute"] = "3",
        });
        using var bob = await SignedInUsers.RegisterAndSignInAsync(limited, "bob");
        for (var i = 0; i < 3; i++)
        {
            using var ok = await bob.GetAsync("/api/v1/calls/ice-servers");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await bob.GetAsync("/api/v1/calls/ice-servers");
        await refused.AssertProblemAsync(429, ProblemTypes.RateLimited);
        Assert.True(refused.Headers.RetryAfter is not null);
        // Without TurnSecret and URLs: no servers, nothing secret.
        using var carol = await SignedInUsers.RegisterAndSignInAsync(limited, "carol");
        Assert.Empty((await carol.GetFromJsonAsync<IceServersResponse>("/api/v1/calls/ice-servers"))!.IceServers);
    }

    private async Task<(string User, string Password)> MintedAsync()
    {
        var response = (await alice.GetFromJsonAsync<IceServersResponse>("/api/v1/calls/ice-servers"))!;
        var turn = response.IceServers.Single(s => s.Credential is not null);
        return (turn.Username!, turn.Credential!);
    }
}

/// <summary>Runs coturn (scripts/coturn.sh) and turnutils_uclient inside a fresh network namespace with only loopback.</summary>
internal static class TurnLab
{
    public sealed record Case(string Name, string Profile, string Server, string User, string Password, string Flags);

    private static readonly Dictionary<string, (int Port, string Relays)> Profiles = new(StringComparer.Ordinal)
    {
        ["hardened"] = (3478, "49152-49999"),
        ["test"] = (3479, "50000-50999"),
    };

    /// <summary>"tot_recv_msgs=N" of uclient's summary (0 when it never got that far).</summary>
    public static int Received(string output)
    {
        var marker = "tot_recv_msgs=";
        var index = output.LastIndexOf(marker, StringComparison.Ordinal);
        if (index < 0)
        {
            return 0;
        }

        var digits = new string(output[(index + marker.Length)..].TakeWhile(char.IsAsciiDigit).ToArray());
        return int.Parse(digits, CultureInfo.InvariantCulture);
    }

    public static async Task<Dictionary<string, (int Rc, string Output)>> RunAsync(IReadOnlyList<string> profiles, IReadOnlyList<Case> cases)
    {
        var coturn = Environment.GetEnvironmentVariable("CONNTEXT_TEST_COTURN");
        Assert.False(string.IsNullOrEmpty(coturn), "CONNTEXT_TEST_COTURN is not set: run the tests through scripts/test.sh (it installs coturn).");
        var dir = Directory.CreateTempSubdirectory("conntext-turn-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "secret"), TurnTests.Secret);
            var script = new StringBuilder();
            script.AppendLine("set -u");
            script.AppendLine("ip link set lo up");
            script.AppendLine(CultureInfo.InvariantCulture, $"dir='{dir}'");
            foreach (var profile in profiles)
            {
                var (port, relays) = Profiles[profile];
                script.AppendLine(CultureInfo.InvariantCulture,
                    $"bash '{coturn}' --profile {profile} --listen 127.0.0.1 --listen ::1 --port {port} --relay-ports {relays} --dir \"$dir/{profile}\" --secret-file \"$dir/secret\" >\"$dir/{profile}.stdout\" 2>&1 &");
                script.AppendLine(CultureInfo.InvariantCulture,
                    $"for i in $(seq 200); do grep -q 'Total General servers' \"$dir/{profile}/turnserver.log\" 2>/dev/null && break; sleep 0.1; done");
            }

            script.AppendLine("turnutils_peer -p 3480 -L 127.0.0.1 >/dev/null 2>&1 &");
            script.AppendLine("sleep 0.5");
            for (var i = 0; i < cases.Count; i++)
            {
                var c = cases[i];
                script.AppendLine(CultureInfo.InvariantCulture,
                    $"timeout 30 turnutils_uclient {c.Flags} -p {Profiles[c.Profile].Port} -u '{c.User}' -w '{c.Password}' {c.Server} >\"$dir/case{i}.out\" 2>&1; echo $? >\"$dir/case{i}.rc\"");
            }

            // Only the processes this script started.
            script.AppendLine("kill $(jobs -p) 2>/dev/null; wait");
            var path = Path.Combine(dir, "run.sh");
            await File.WriteAllTextAsync(path, script.ToString());

            // As root a network namespace needs no user namespace; otherwise map the user to root in a new one.
            var start = new ProcessStartInfo("bash", ["-c", "if [ \"$(id -u)\" = 0 ]; then exec unshare --net bash \"$0\"; else exec unshare --map-root-user --net bash \"$0\"; fi", path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var results = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
            for (var i = 0; i < cases.Count; i++)
            {
                var rcFile = Path.Combine(dir, $"case{i}.rc");
                Assert.True(File.Exists(rcFile), $"case {cases[i].Name} did not run: {await stdout}{await stderr}");
                var output = await File.ReadAllTextAsync(Path.Combine(dir, $"case{i}.out"));
                results[cases[i].Name] = (int.Parse((await File.ReadAllTextAsync(rcFile)).Trim(), CultureInfo.InvariantCulture), output);
            }

            return results;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
