using ConnText.Client.Sessions;
using ConnText.Client.Store;
using ConnText.Contracts.Conversations;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Pages;

/// <summary>The main screen: account switcher, conversation list, and the open conversation.</summary>
public sealed partial class HomePage : IDisposable
{
    private bool interactive;
    private bool creating;
    private Guid? accountId;

    [Inject]
    private AccountManager Accounts { get; set; } = null!;

    [Inject]
    private UiPreferences Preferences { get; set; } = null!;

    [Inject]
    private HomeNavigation Navigation { get; set; } = null!;

    /// <summary>The account to show first (after adding one).</summary>
    [SupplyParameterFromQuery(Name = "account")]
    public Guid? InitialAccount { get; set; }

    private AccountSession? Session
    {
        get
        {
            var sessions = Accounts.Sessions;
            return sessions.FirstOrDefault(s => s.Account.Id == accountId) ?? (sessions.Count > 0 ? sessions[0] : null);
        }
    }

    private Guid? ConversationId { get; set; }

    private string Title
    {
        get
        {
            var unread = Accounts.Sessions.Sum(s => s.Store.Conversations().Sum(c => c.Unread));
            return unread > 0 ? $"({unread}) ConnText" : "ConnText";
        }
    }

    public void Dispose()
    {
        Accounts.Changed -= OnChanged;
        Preferences.Changed -= OnChanged;
        Navigation.Changed -= OnChanged;
    }

    protected override void OnInitialized()
    {
        accountId = InitialAccount;
        Accounts.Changed += OnChanged;
        Preferences.Changed += OnChanged;
        Navigation.Changed += OnChanged;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            // Tests (and anything automating the window) wait for this before clicking: before it, clicks go nowhere.
            interactive = true;
            StateHasChanged();
        }
    }

    private void OnChanged(object? sender, EventArgs e) => _ = InvokeAsync(StateHasChanged);

    private void SelectAccount(AccountSession session)
    {
        accountId = session.Account.Id;
        ConversationId = null;
        creating = false;
        ShowConversation(null);
    }

    private void SelectConversation(Guid id)
    {
        ConversationId = id;
        creating = false;
        ShowConversation(null);
    }

    private void StartNewConversation()
    {
        creating = true;
        ShowConversation(null);
    }

    private void OpenSearchResult(LocalSearchHit hit)
    {
        ConversationId = hit.Message.ConversationId;
        creating = false;
        ShowConversation(hit.Message.Id);
    }

    private void ShowConversation(Guid? focus)
    {
        Navigation.Focus(focus);
        Navigation.Show(HomePanel.Conversation);
    }

    private void ConversationCreated(ConversationResponse conversation)
    {
        creating = false;
        ConversationId = conversation.Id;
    }
}
