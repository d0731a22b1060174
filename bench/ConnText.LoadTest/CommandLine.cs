using System.Globalization;

namespace ConnText.LoadTest;

/// <summary><c>--name value</c> pairs; every option has a default, so a bad or missing value fails early.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public static CommandLine Parse(ReadOnlySpan<string> args)
    {
        var parsed = new CommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected --name value, got '{args[i]}'");
            }

            parsed.values[args[i][2..]] = args[++i];
        }

        return parsed;
    }

    public string String(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public string Required(string name) =>
        values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) =>
        values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        values.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public IReadOnlyList<double> Doubles(string name, string fallback) =>
        [.. String(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture))];

    public IReadOnlyList<string> Strings(string name, string fallback) =>
        String(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal static class Usage
{
    public const string Text = """
        ConnText.LoadTest <command> [--option value ...]

        seed    --provider sqlite|postgres --connection <connection string> --users 10000 --room-size 100
                --tokens-out tokens.tsv --mark-tokens-used false|true
                Bench-only shortcut (password hashing makes 10,000 registrations take ~17 min): inserts users
                bench-00000..., one personal access token each (read write) and group conversations of
                room-size members directly with SQL, into a migrated, otherwise unused database.
                Writes "token<TAB>userId<TAB>conversationId" per user. --mark-tokens-used true sets the tokens'
                last use a day ahead, so connecting skips the once-a-minute last-used write (see docs/performance.md).

        fanout  --target conntext|signalr|ws --urls http://127.0.0.1:5180[,http://127.0.0.2:5180] --tokens tokens.tsv
                --connections 10000 --room-size 100 --rates 100,200 (messages sent per second, one step each)
                --duration 20 (s per step) --warmup 20 (s; a fresh server needs ~18 s to keep up) --payload 100 (characters) --protocol json|messagepack
                --hub-client signalr|raw (conntext and signalr targets: the .NET SignalR client, or SignalR's JSON
                protocol over a plain ClientWebSocket, as lean on the generator's side as the ws client)
                --server-pid <pid> --label <name> --json out.json --max-inflight 2000 --connect-concurrency 200
                --database-pid <pid> (PostgreSQL's postmaster: its and its backends' CPU in a column of its own)
                --server-metrics http://127.0.0.1:5180/metrics (the server's Prometheus endpoint: its garbage
                collections, pause time and allocation per step, in columns of their own; the generator's own GC
                pause per second is always reported)
                Every connection's room is given by the tokens file (line i, rooms of room-size consecutive lines).
                ws: a baseline relay speaking relay.js's protocol (Node.js, bench/baselines/ws-relay, or Kestrel's,
                bench/baselines/aspnet-relay at /); signalr: the bare SignalR hub of bench/baselines/aspnet-relay.
                --storm-rate 20 (sign-ins per second; 0 = none) runs each rate twice, without and with a login
                storm: that many sign-ins per second through the whole OAuth code + PKCE flow and login form
                (users of the tokens file, --password bench-password-1), and reports chat delivery p99 of both.
                --storm-rounds 1: alternate that many steps without and with the storm per rate; the ratio is taken
                over all deliveries of each kind, and each round's ratio and the quiet steps' spread are shown.
                --storm-process same|separate (default same; separate: the sign-ins come from a child process, as
                from other machines, its CPU counted as the generator's. Measured both ways on 2026-11-27: separate
                raised the storm's effect (×1.41-1.42 against ×1.09-1.25), so sign-in work inside the generator is
                not what the ratio measures).
                --storm-warmup true|false: sign in at the storm's rate during the warm-up too (default true: the
                steps compare a warm server; false measures the storm on a sign-in path the JIT has not compiled).

        rest    --url http://127.0.0.1:5180 --tokens tokens.tsv --scenario send|history|conversations|login
                --rates 20,50 (requests per second, one step each) --duration 20 --warmup 5 --server-pid <pid>
                --auth oauth|pat --auth-users 20 --password bench-password-1 --label <name> --json out.json
                Open loop: latency from each request's scheduled time. send/history/conversations use OAuth
                access tokens of auth-users users signed in through the code + PKCE flow first (the app's
                credential), or the seed's personal access tokens with --auth pat. login: the whole sign-in.

        idle    --urls ... --tokens tokens.tsv --offset 0 --count 9500 --hold 600 --ready-file <path>
                --connect-concurrency 200
                Opens count hub connections (token lines offset..offset+count-1), writes the number open to
                ready-file, holds them for hold seconds (or until killed).

        logins  --url http://127.0.0.1:5180 --tokens tokens.tsv --password bench-password-1
                The login storm's process (fanout starts it): reads "rate seconds" lines, runs that many sign-ins per
                second for that long, answers each with one line of JSON (ok, busy, failed, sign-in p50 and p99).

        summarize --dir <results directory>
                Writes summary.md from the run's fanout-*.json and idle.json.
        """;
}
