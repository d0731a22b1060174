using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using ConnText.Contracts.Accounts;
using Npgsql;

// The history benchmark's client side (bench/history/run.sh drives it):
//   token <server> <username> <password>            register, sign in (OAuth code + PKCE), create a read-only personal access token;
//                                                    prints "<userId> <token>"
//   http <server> <token> <targets> <rate> <seconds> [server pid [postgres pid]]
//                                                    open-loop GET .../messages?before=…&limit=50 at a fixed rate after a
//                                                    warm-up of WARMUP_SECONDS (default 30); with the pids, the CPU time of
//                                                    the server and of PostgreSQL (postmaster and backends) over the
//                                                    measured window only
//   sql <connection> <targets> <count> <mode>          the same random pages straight from PostgreSQL, one after another
//                                                    (mode: offset, keyset, keyset-server or keyset-probes; see SqlPages)
// <targets> is a file of "conversationId,lastSequence" lines.
return args switch
{
    ["token", var server, var user, var password] => await Token.RunAsync(new Uri(server), user, password),
    ["http", var server, var token, var targets, var rate, var seconds, .. var pids] when pids.Length <= 2 =>
        await HttpLoad.RunAsync(new Uri(server), token, Targets.Read(targets), int.Parse(rate, CultureInfo.InvariantCulture), int.Parse(seconds, CultureInfo.InvariantCulture),
            pids.Length > 0 ? int.Parse(pids[0], CultureInfo.InvariantCulture) : null,
            pids.Length > 1 ? int.Parse(pids[1], CultureInfo.InvariantCulture) : null),
    ["sql", var connection, var targets, var count, var mode] =>
        await SqlPages.RunAsync(connection, Targets.Read(targets), int.Parse(count, CultureInfo.InvariantCulture), mode),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: token <server> <user> <password> | http <server> <token> <targets> <rate> <seconds> [server pid] | sql <connection> <targets> <count> offset|keyset|keyset-server|keyset-probes");
    return 2;
}

internal sealed record Target(Guid ConversationId, long LastSequence);

internal static class Targets
{
    public const int PageSize = 50;

    public static Target[] Read(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => l.Split(','))
            .Select(p => new Target(Guid.Parse(p[0], CultureInfo.InvariantCulture), long.Parse(p[1], CultureInfo.InvariantCulture))).ToArray();

    /// <summary>A random conversation and a random full page in it: before is in [51, last + 1].</summary>
    public static (Target Target, long Before) Pick(Target[] targets)
    {
        var target = targets[Random.Shared.Next(targets.Length)];
        return (target, Random.Shared.NextInt64(PageSize + 1, target.LastSequence + 2));
    }
}

internal static class Percentiles
{
    public static string Report(string name, List<double> millis, TimeSpan cpu, TimeSpan wall)
    {
        millis.Sort();
        double At(double p) => millis.Count == 0 ? double.NaN : millis[Math.Min(millis.Count - 1, (int)Math.Ceiling(p * millis.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture,
            $"{name}: n={millis.Count} p50={At(0.50):F2}ms p90={At(0.90):F2}ms p99={At(0.99):F2}ms p99.9={At(0.999):F2}ms max={(millis.Count == 0 ? double.NaN : millis[^1]):F2}ms; this process used {cpu.TotalSeconds:F1}s CPU in {wall.TotalSeconds:F1}s");
    }
}

internal static class HttpLoad
{
    /// <summary>
    /// Open loop: request i is due at start + i/rate whatever happened to earlier ones, and its latency is measured from
    /// that due time, not from when it was actually sent. A stalled server therefore shows up as latency of every request
    /// that should have been sent meanwhile (no coordinated omission).
    /// </summary>
    public static async Task<int> RunAsync(Uri server, string token, Target[] targets, int rate, int seconds, int? serverPid, int? postgresPid)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        // Warm up (JIT and its tiering, connection pools, caches) outside the measurement. The server's CPU for one
        // request is only meaningful once its code is fully compiled: after 2,000 requests (about 3 s) the runtime was
        // still compiling (8 % of the server's CPU samples in the JIT, methods still at their instrumented tier) and a
        // 20 s window measured 1.8-2.2 ms per request where a 60 s one measured 1.36 ms. First 8 requests at a time,
        // then the last 10 s (or a third) open loop at the measured rate: going from 8 requests in flight straight to
        // 1,000/s made the client open hundreds of connections and the server's thread pool grow within the measured
        // window, and its first 4-5 s were a backlog (p99 per second 1,037 ms, then 10-27 ms for the rest).
        var warmUp = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("WARMUP_SECONDS"), CultureInfo.InvariantCulture, out var w) ? w : 30);
        var atRate = TimeSpan.FromSeconds(Math.Min(10, warmUp.TotalSeconds / 3));
        var closedEnds = Stopwatch.GetTimestamp() + (long)((warmUp - atRate).TotalSeconds * Stopwatch.Frequency);
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (_, ct) =>
        {
            while (Stopwatch.GetTimestamp() < closedEnds)
            {
                var (t, before) = Targets.Pick(targets);
                using var response = await client.GetAsync(Url(t, before), ct);
                response.EnsureSuccessStatusCode();
            }
        });
        await OpenLoopAsync(client, targets, rate, (int)Math.Round(atRate.TotalSeconds * rate));

        var serverCpuBefore = ServerCpu.Seconds(serverPid);
        var postgresCpuBefore = ServerCpu.TreeSeconds(postgresPid);
        var total = rate * seconds;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var start = Stopwatch.GetTimestamp();
        var (latencies, failures) = await OpenLoopAsync(client, targets, rate, total);
        var serverCpu = ServerCpu.Seconds(serverPid) - serverCpuBefore;
        var postgresCpu = ServerCpu.TreeSeconds(postgresPid) - postgresCpuBefore;
        var wall = clock.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var achieved = total / Stopwatch.GetElapsedTime(start).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"http: {rate}/s scheduled for {seconds}s, {achieved:F0}/s completed, {failures} failed"));
        Console.WriteLine(Percentiles.Report("http keyset page (end to end, from scheduled start)", [.. latencies], cpu, wall));
        // Where in the window the slow requests were: a stall shows up as a run of slow seconds, a start-up backlog as
        // slow first seconds only.
        Console.WriteLine("http p99 ms by second of the window: " + string.Join(' ', latencies.Chunk(rate)
            .Select(second => second.Order().ElementAt((int)Math.Ceiling(second.Length * 0.99) - 1).ToString("F0", CultureInfo.InvariantCulture))));
        if (serverPid is not null)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"server CPU in the measured window (warm-up excluded): {serverCpu:F1}s, {serverCpu * 1000 / total:F2} ms per request, {serverCpu / wall.TotalSeconds * 100:F0}% of one core"));
        }

        if (postgresPid is not null)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PostgreSQL CPU in the measured window (warm-up excluded): {postgresCpu:F1}s, {postgresCpu * 1000 / total:F2} ms per request, {postgresCpu / wall.TotalSeconds * 100:F0}% of one core"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load generator CPU in the measured window: {cpu.TotalSeconds:F1}s, {cpu.TotalMilliseconds / total:F2} ms per request"));

        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// <paramref name="count"/> requests, request i due at start + i/rate; each latency counts from its due time.
    /// Requests are started in batches of those due, about once a millisecond: the generator sleeps between batches
    /// instead of spinning (its spin-wait took more CPU than the server at 200-500 requests/s, on the same two cores).
    /// Starting up to a millisecond late is charged to the server, not hidden.
    /// </summary>
    private static async Task<(double[] Latencies, int Failures)> OpenLoopAsync(HttpClient client, Target[] targets, int rate, int count)
    {
        var latencies = new double[count];
        var failures = 0;
        var pending = new Task[count];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var due = start + (long)(i * ticksPerRequest);
            if (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due) is var wait && wait > TimeSpan.FromMilliseconds(1)
                    ? wait
                    : TimeSpan.FromMilliseconds(1));
            }

            var index = i;
            var (target, before) = Targets.Pick(targets);
            pending[i] = Task.Run(async () =>
            {
                try
                {
                    using var response = await client.GetAsync(Url(target, before), HttpCompletionOption.ResponseContentRead);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failures);
                }

                latencies[index] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
            });
        }

        await Task.WhenAll(pending);
        return (latencies, failures);
    }

    private static string Url(Target target, long before) =>
        string.Create(CultureInfo.InvariantCulture, $"/api/v1/conversations/{target.ConversationId}/messages?before={before}&limit={Targets.PageSize}");
}

internal static class SqlPages
{
    /// <summary>
    /// The baseline: the same random pages read directly with SQL, one after another (closed loop, one connection).
    /// offset: ORDER BY "Sequence" DESC OFFSET n LIMIT 50, the page number a client would have to keep instead of a sequence.
    /// keyset: the keyset page alone (WHERE "Sequence" &lt; before), without HTTP, auth and JSON.
    /// keyset-server: the server's page statement: that page with its membership check (an uncorrelated EXISTS on
    /// conversation_members); whether a message has reactions, mentions or files is in its row (ADR 0022).
    /// keyset-probes: the statement before ADR 0022: the same, plus three EXISTS probes per row on the reactions,
    /// mentions and attachments tables.
    /// Also prints the CPU time of the PostgreSQL backend serving the connection (from /proc, same machine).
    /// </summary>
    public static async Task<int> RunAsync(string connectionString, Target[] targets, int count, string mode)
    {
        var sql = mode switch
        {
            "offset" => """SELECT * FROM messages WHERE "ConversationId" = $1 ORDER BY "Sequence" DESC OFFSET $2 LIMIT 50""",
            "keyset" => """SELECT * FROM messages WHERE "ConversationId" = $1 AND "Sequence" < $2 ORDER BY "Sequence" DESC LIMIT 50""",
            "keyset-server" => """
                SELECT m.* FROM messages AS m
                WHERE m."ConversationId" = $1 AND m."Sequence" < $2
                  AND EXISTS (SELECT 1 FROM conversation_members AS c WHERE c."ConversationId" = $1 AND c."UserId" = $3)
                ORDER BY m."Sequence" DESC LIMIT 50
                """,
            "keyset-probes" => """
                SELECT m.*,
                       EXISTS (SELECT 1 FROM message_reactions AS r WHERE r."MessageId" = m."Id"),
                       EXISTS (SELECT 1 FROM message_mentions AS x WHERE x."MessageId" = m."Id"),
                       EXISTS (SELECT 1 FROM message_attachments AS a WHERE a."MessageId" = m."Id")
                FROM messages AS m
                WHERE m."ConversationId" = $1 AND m."Sequence" < $2
                  AND EXISTS (SELECT 1 FROM conversation_members AS c WHERE c."ConversationId" = $1 AND c."UserId" = $3)
                ORDER BY m."Sequence" DESC LIMIT 50
                """,
            _ => throw new ArgumentException("mode is offset, keyset, keyset-server or keyset-probes", nameof(mode)),
        };
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        int backendPid;
        Guid member;
        await using (var setup = new NpgsqlCommand("""SELECT pg_backend_pid(), (SELECT "UserId" FROM conversation_members LIMIT 1)""", connection))
        await using (var reader = await setup.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            backendPid = reader.GetInt32(0);
            member = reader.GetGuid(1);
        }

        await using var command = new NpgsqlCommand(sql, connection);
        var conversation = new NpgsqlParameter<Guid>();
        var position = new NpgsqlParameter<long>();
        command.Parameters.Add(conversation);
        command.Parameters.Add(position);
        if (mode is "keyset-server" or "keyset-probes")
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = member });
        }

        await command.PrepareAsync();
        var backendCpuBefore = TimeSpan.Zero;

        var latencies = new List<double>(count);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count + 200; i++)
        {
            var (target, before) = Targets.Pick(targets);
            conversation.TypedValue = target.ConversationId;
            // The page that ends just below "before", counted from the newest message.
            position.TypedValue = mode == "offset" ? target.LastSequence - before + 1 : before;
            var started = Stopwatch.GetTimestamp();
            var rows = 0;
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    rows++;
                }
            }

            if (rows != Targets.PageSize)
            {
                throw new InvalidOperationException($"expected a full page, got {rows} rows");
            }

            if (i >= 200) // the first 200 warm up
            {
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            else if (i == 199)
            {
                backendCpuBefore = BackendCpu(backendPid);
            }
        }

        var backendCpu = BackendCpu(backendPid) - backendCpuBefore;
        Console.WriteLine(Percentiles.Report($"sql {mode} page (direct, sequential)", latencies,
            Process.GetCurrentProcess().TotalProcessorTime - cpuBefore, clock.Elapsed)
            + string.Create(CultureInfo.InvariantCulture, $"; PostgreSQL backend {backendCpu.TotalMilliseconds * 1000 / latencies.Count:F0} µs CPU per page"));
        return 0;
    }

    /// <summary>User + system time of a process from /proc/&lt;pid&gt;/stat (clock ticks of 10 ms).</summary>
    private static TimeSpan BackendCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}

/// <summary>Gets a personal access token the way a user would: sign in through the server's login page, then ask the API for one.</summary>
internal static partial class Token
{
    private const string ClientId = "conntext-desktop";

    public static async Task<int> RunAsync(Uri server, string username, string password)
    {
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = server };
        using (var registered = await browser.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest(username, password)))
        {
            if (registered.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
            {
                throw new InvalidOperationException($"registration: {(int)registered.StatusCode} {await registered.Content.ReadAsStringAsync()}");
            }
        }

        var redirect = "http://127.0.0.1:9/oauth/callback"; // never contacted: the code is read from the Location header
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var query = HttpUtility.ParseQueryString("");
        query["client_id"] = ClientId;
        query["response_type"] = "code";
        query["redirect_uri"] = redirect;
        query["scope"] = "openid api";
        query["state"] = "bench";
        query["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        query["code_challenge_method"] = "S256";
        query["device_name"] = "history benchmark";
        query["device_platform"] = "linux";

        using var loginPage = await FollowAsync(browser, new Uri(server, "/connect/authorize?" + query));
        var html = await loginPage.Content.ReadAsStringAsync();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(html, "__RequestVerificationToken"),
            ["ReturnUrl"] = Hidden(html, "ReturnUrl"),
            ["Username"] = username,
            ["Password"] = password,
        });
        using var submitted = await browser.PostAsync("/account/login", form);
        using var toApp = await FollowAsync(browser, new Uri(server, submitted.Headers.Location!.OriginalString));
        var code = HttpUtility.ParseQueryString(toApp.Headers.Location!.Query)["code"]
            ?? throw new InvalidOperationException("no authorization code in " + toApp.Headers.Location);

        using var redeem = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = ClientId,
            ["code"] = code,
            ["redirect_uri"] = redirect,
            ["code_verifier"] = verifier,
        });
        using var tokens = await browser.PostAsync("/connect/token", redeem);
        var accessToken = (await tokens.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();

        using var api = new HttpClient { BaseAddress = server };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var me = (await api.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!;
        using var created = await api.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("history benchmark", ["read"], 1));
        created.EnsureSuccessStatusCode();
        var pat = (await created.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!;
        Console.WriteLine($"{me.Id} {pat.Token}");
        return 0;
    }

    private static async Task<HttpResponseMessage> FollowAsync(HttpClient browser, Uri url)
    {
        for (var hop = 0; hop < 10; hop++)
        {
            var response = await browser.GetAsync(url);
            if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther))
            {
                return response;
            }

            var next = new Uri(url, response.Headers.Location!);
            if (next.Authority != url.Authority)
            {
                return response; // the redirect back to the app
            }

            response.Dispose();
            url = next;
        }

        throw new InvalidOperationException("too many redirects");
    }

    private static string Hidden(string html, string name)
    {
        var match = Regex.Match(html, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"");
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : "";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>User + system CPU seconds of a process from /proc (Linux), or 0 without a pid.</summary>
internal static class ServerCpu
{
    public static double Seconds(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }

        return Stat(pid.Value) is { } fields ? CpuSeconds(fields) : 0;
    }

    /// <summary>The process and its children (PostgreSQL's postmaster and its backends).</summary>
    public static double TreeSeconds(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }

        var total = Seconds(pid);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var child) && child != pid
                && Stat(child) is { } fields && fields[1] == pid.Value.ToString(CultureInfo.InvariantCulture))
            {
                total += CpuSeconds(fields);
            }
        }

        return total;
    }

    /// <summary>utime + stime (fields 14 and 15 of /proc/pid/stat, in 1/100 s).</summary>
    private static double CpuSeconds(string[] fields) =>
        (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;

    /// <summary>/proc/pid/stat from the field after "(comm)" on (state, ppid, …), or null when the process is gone.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }
}
