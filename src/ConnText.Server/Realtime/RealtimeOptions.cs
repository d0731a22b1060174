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
}
