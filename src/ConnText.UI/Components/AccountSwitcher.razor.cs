using ConnText.Client.Sessions;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>The column of accounts (each with its unread count and connection dot), add account, theme and quit.</summary>
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
    private UiPreferences Preferences { get; set; } = null!;

    [Inject]
    private IAppShell Shell { get; set; } = null!;

    private string ThemeIcon => Preferences.Theme switch { "light" => "☀", "dark" => "☾", _ => "◐" };

    private static int Unread(AccountSession session) => session.Store.Conversations().Sum(c => c.Unread);

    private static string Initials(string name)
    {
        var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length switch
        {
            0 => "?",
            1 => words[0][..1].ToUpperInvariant(),
            _ => (words[0][..1] + words[^1][..1]).ToUpperInvariant(),
        };
    }
}
