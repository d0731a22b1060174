namespace ConnText.Server.Realtime;

/// <summary><c>ConnText:Realtime</c>: the realtime hub at <c>/hubs/realtime</c>.</summary>
internal sealed class RealtimeOptions
{
    public const string Section = "ConnText:Realtime";

    /// <summary>
    /// Browser origins (<c>scheme://host[:port]</c>) allowed to connect besides the server's own. Empty (the default):
    /// only same-origin pages and clients that send no <c>Origin</c> header (the apps, bots) connect.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = new List<string>();

    /// <summary>
    /// Server events waiting to be written to one connection. A client that falls this far behind is disconnected
    /// (it resumes by sequence when it reconnects) so that it never holds back the others or the server's memory.
    /// </summary>
    public int SendQueueLimit { get; set; } = 1000;

    /// <summary>Hub method calls one connection may make per second on average ...</summary>
    public int InvocationsPerSecond { get; set; } = 20;

    /// <summary>... and in a burst. Calls beyond the budget are refused with <c>urn:conntext:problem:rate-limited</c>.</summary>
    public int InvocationBurst { get; set; } = 60;

    /// <summary>At most one <c>Typing</c> event per connection and conversation is passed on in this many milliseconds; the rest are dropped.</summary>
    public int TypingThrottleMilliseconds { get; set; } = 2000;

    /// <summary>How long clients show a typing indicator after the last <c>Typing</c> event.</summary>
    public int TypingExpiresAfterMilliseconds { get; set; } = 6000;

    /// <summary>How often connections whose access token expired are closed, in seconds.</summary>
    public int ExpirySweepSeconds { get; set; } = 15;
}
