using ConnText.Client.Sessions;
using ConnText.Client.Store;
using ConnText.Contracts.Conversations;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace ConnText.UI.Pages;

/// <summary>The main screen: account switcher, conversation list, and the open conversation.</summary>
public sealed partial class HomePage : IAsyncDisposable
{
    private DotNetObjectReference<HomePage>? self;
    private IJSObjectReference? activityModule;
    private IJSObjectReference? activityWatch;
    private bool focused;
    private bool interactive;
    private bool creating;
    private Guid? accountId;

    [Inject]
    private AccountManager Accounts { get; set; } = null!;

    [Inject]
    private UiPreferences Preferences { get; set; } = null!;

    [Inject]
    private WindowActivity Activity { get; set; } = null!;

    [Inject]
    private CircuitWindow Window { get; set; } = null!;

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

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

    public async ValueTask DisposeAsync()
    {
        Accounts.Changed -= OnChanged;
        Preferences.Changed -= OnChanged;
        Navigation.Changed -= OnNavigated;
        Activity.OpenRequested -= OnOpenRequested;
        Activity.WebNotificationRequested -= OnWebNotificationRequested;
        Window.Remove(this);
        try
        {
            if (activityWatch is not null)
            {
                await activityWatch.InvokeVoidAsync("dispose");
                await activityWatch.DisposeAsync();
            }

            if (activityModule is not null)
            {
                await activityModule.DisposeAsync();
            }
        }
        catch (JSDisconnectedException)
        {
            // The window is gone already.
        }

        self?.Dispose();
    }

    /// <summary>Called by the window: whether it is focused and visible.</summary>
    [JSInvokable]
    public void ReportFocus(bool hasFocus)
    {
        focused = hasFocus;
        Report();
    }

    /// <summary>Called by the window when the user clicked a web notification.</summary>
    [JSInvokable]
    public Task OpenFromNotification(Guid account, Guid conversation) => InvokeAsync(() =>
    {
        Open(account, conversation);
        StateHasChanged();
    });

    protected override void OnInitialized()
    {
        accountId = InitialAccount;
        Accounts.Changed += OnChanged;
        Preferences.Changed += OnChanged;
        Navigation.Changed += OnNavigated;
        Activity.OpenRequested += OnOpenRequested;
        Activity.WebNotificationRequested += OnWebNotificationRequested;
        if (Activity.TakePendingOpen() is { } pending)
        {
            Open(pending.Account, pending.Conversation);
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            // Tests (and anything automating the window) wait for this before clicking: before it, clicks go nowhere.
            interactive = true;
            StateHasChanged();
            self = DotNetObjectReference.Create(this);
            activityModule = await JS.InvokeAsync<IJSObjectReference>("import", "./_content/ConnText.UI/window-activity.js");
            activityWatch = await activityModule.InvokeAsync<IJSObjectReference>("watch", self);
        }
    }

    // What the window shows, for notifications: a conversation only while its panel is up.
    private void Report() => Window.Report(this, focused, Session?.Account.Id,
        creating || Navigation.Panel != HomePanel.Conversation ? null : ConversationId);

    private void Open(Guid account, Guid conversation)
    {
        accountId = account;
        ConversationId = conversation;
        creating = false;
        ShowConversation(null);
    }

    private void OnOpenRequested(object? sender, OpenConversationEventArgs e) => _ = InvokeAsync(() =>
    {
        Open(e.AccountId, e.ConversationId);
        StateHasChanged();
    });

    private void OnWebNotificationRequested(object? sender, WebNotificationEventArgs e) => _ = InvokeAsync(async () =>
    {
        if (activityModule is null || self is null)
        {
            return;
        }

        try
        {
            await activityModule.InvokeAsync<bool>("notify", self, e.Title, e.Body, e.AccountId, e.ConversationId);
        }
        catch (JSException)
        {
            // Notifications refused or unsupported in this browser: nothing else to do.
        }
        catch (JSDisconnectedException)
        {
        }
    });

    private void OnChanged(object? sender, EventArgs e) => _ = InvokeAsync(StateHasChanged);

    private void OnNavigated(object? sender, EventArgs e)
    {
        Report(); // a panel over the conversation means it is not being read
        OnChanged(sender, e);
    }

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
        Report();
    }

    private void ConversationCreated(ConversationResponse conversation)
    {
        creating = false;
        ConversationId = conversation.Id;
        Report();
    }
}
