using ConnText.Server.Hosting;

namespace ConnText.Server.Calls;

/// <summary>Settings under <c>ConnText:Calls</c> (docs/configuration.md).</summary>
internal sealed class CallsOptions
{
    public const string Section = "ConnText:Calls";

    /// <summary>How long a call rings before it ends as missed.</summary>
    public TimeSpan RingTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>The most participants joined at once (every device sends its media to every other: a mesh).</summary>
    public int MeshLimit { get; set; } = 6;

    /// <summary>How long a joined device may be disconnected before it is dropped from its call.</summary>
    public TimeSpan DisconnectGrace { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often each node looks for calls past their ring deadline and devices past their grace period.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest signaling payload (an SDP offer, a candidate…), in UTF-16 characters.</summary>
    public int MaxSignalChars { get; set; } = 16_384;

    /// <summary>Signals a device may send per second, sustained.</summary>
    public int SignalsPerSecond { get; set; } = 20;

    /// <summary>Signals a device may send in a burst (ICE gathering sends a few dozen at once).</summary>
    public int SignalBurst { get; set; } = 100;

    /// <summary>coturn's <c>static-auth-secret</c>; empty: no TURN entries are handed out.</summary>
    public string? TurnSecret { get; set; }

    /// <summary>TURN URLs handed to clients, e.g. <c>turn:turn.example.com:3478?transport=udp</c>.</summary>
    public IList<string> TurnUrls { get; } = new List<string>();

    /// <summary>STUN URLs handed to clients, e.g. <c>stun:turn.example.com:3478</c>.</summary>
    public IList<string> StunUrls { get; } = new List<string>();

    /// <summary>How long minted TURN credentials stay valid.</summary>
    public TimeSpan CredentialLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>GET /api/v1/calls/ice-servers</c> requests per user per minute.</summary>
    public int IceServersPerMinute { get; set; } = 30;

    public void Validate()
    {
        Check(RingTimeout >= TimeSpan.FromSeconds(1) && RingTimeout <= TimeSpan.FromMinutes(10), "RingTimeout", "must be between 00:00:01 and 00:10:00.");
        Check(MeshLimit is >= 2 and <= 32, "MeshLimit", "must be between 2 and 32.");
        Check(DisconnectGrace >= TimeSpan.Zero && DisconnectGrace <= TimeSpan.FromMinutes(10), "DisconnectGrace", "must be between 00:00:00 and 00:10:00.");
        Check(SweepInterval >= TimeSpan.FromMilliseconds(100) && SweepInterval <= TimeSpan.FromMinutes(1), "SweepInterval", "must be between 00:00:00.1 and 00:01:00.");
        Check(MaxSignalChars is >= 1024 and <= 1_000_000, "MaxSignalChars", "must be between 1024 and 1000000.");
        Check(SignalsPerSecond is >= 1 and <= 10_000, "SignalsPerSecond", "must be between 1 and 10000.");
        Check(SignalBurst >= SignalsPerSecond && SignalBurst <= 100_000, "SignalBurst", "must be at least SignalsPerSecond and at most 100000.");
        Check(CredentialLifetime >= TimeSpan.FromMinutes(1) && CredentialLifetime <= TimeSpan.FromDays(1), "CredentialLifetime", "must be between 00:01:00 and 1.00:00:00.");
        Check(IceServersPerMinute is >= 1 and <= 10_000, "IceServersPerMinute", "must be between 1 and 10000.");
        Check(string.IsNullOrEmpty(TurnSecret) || TurnSecret.Length >= 16, "TurnSecret", "must be at least 16 characters (use a long random string, the same as coturn's static-auth-secret).");
        Check(TurnUrls.Count == 0 || !string.IsNullOrEmpty(TurnSecret), "TurnSecret", "is required when TurnUrls are set: TURN servers need credentials.");
        foreach (var url in TurnUrls)
        {
            Check(url.StartsWith("turn:", StringComparison.Ordinal) || url.StartsWith("turns:", StringComparison.Ordinal), "TurnUrls",
                $"'{url}' is not a TURN URL (turn:host[:port][?transport=udp|tcp] or turns:…).");
        }

        foreach (var url in StunUrls)
        {
            Check(url.StartsWith("stun:", StringComparison.Ordinal) || url.StartsWith("stuns:", StringComparison.Ordinal), "StunUrls",
                $"'{url}' is not a STUN URL (stun:host[:port]).");
        }
    }

    private static void Check(bool valid, string key, string message)
    {
        if (!valid)
        {
            throw new StartupException($"{Section}:{key}", message);
        }
    }
}
