namespace ConnText.UI.Shell;

/// <summary>Call settings of the host (<c>ConnText:Desktop:Calls</c>, docs/desktop.md).</summary>
public sealed class CallSettings
{
    /// <summary>The configuration section the desktop host binds.</summary>
    public const string Section = "ConnText:Desktop:Calls";

    /// <summary>
    /// Only relayed ICE candidates (<c>iceTransportPolicy: "relay"</c>): media always goes through the TURN server, so the
    /// other side never learns this device's addresses. Calls fail when no TURN server is configured.
    /// </summary>
    public bool RelayOnly { get; set; }
}
