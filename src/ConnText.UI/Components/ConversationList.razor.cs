using ConnText.Client.Sessions;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>An account's conversations, most recently active first, with unread badges.</summary>
public sealed partial class ConversationList
{
    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Parameter]
    public Guid? SelectedId { get; set; }

    [Parameter]
    public EventCallback<Guid> OnSelect { get; set; }
}
