using ConnText.Client.Sessions;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>The visible connection state of an account: online, reconnecting or offline.</summary>
public sealed partial class ConnectionBadge
{
    /// <summary>The state to show.</summary>
    [Parameter]
    public ConnectionState State { get; set; }

    private string Kind => State switch
    {
        ConnectionState.Online => "online",
        ConnectionState.Reconnecting or ConnectionState.Connecting => "reconnecting",
        _ => "offline",
    };

    private string Label => State switch
    {
        ConnectionState.Online => "Online",
        ConnectionState.Connecting => "Connecting…",
        ConnectionState.Reconnecting => "Reconnecting…",
        _ => "Offline",
    };
}
