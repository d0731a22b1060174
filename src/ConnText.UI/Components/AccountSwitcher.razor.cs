using ConnText.Client.Sessions;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>The column of accounts (each with its unread count and connection dot), add account, settings and quit.</summary>
public sealed partial class AccountSwitcher
{
    [Parameter]
    [EditorRequired]
    public IReadOnlyList<AccountSession> Sessions { get; set; } = [];

    [Parameter]
    public AccountSession? Selected { get; set; }

    [Parameter]
    public EventCallback<AccountSession> OnSelect { get; set; }

    [Inject]
    private HomeNavigation Navigation { get; set; } = null!;

    [Inject]
    private IAppShell Shell { get; set; } = null!;

    private static int Unread(AccountSession session) => session.Store.Conversations().Sum(c => c.Unread);
}
