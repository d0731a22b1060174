namespace ConnText.UI.Shell;

/// <summary>
/// What the windows showing the UI are doing, for the host's notifications: whether one has the user's attention and
/// which conversation it shows; and the way back in: a notification's "open" action selects a conversation.
/// </summary>
public sealed class WindowActivity
{
    private readonly Lock gate = new();
    private readonly Dictionary<object, WindowReport> windows = [];
    private (Guid Account, Guid Conversation)? pendingOpen;

    /// <summary>Raised (on any thread) when something asked to open a conversation: the windows select it.</summary>
    public event EventHandler<OpenConversationEventArgs>? OpenRequested;

    /// <summary>Raised when the host cannot raise OS notifications: an open window shows a web notification instead.</summary>
    public event EventHandler<WebNotificationEventArgs>? WebNotificationRequested;

    /// <summary>Whether any window is open (a closed window leaves the engine running).</summary>
    public bool HasWindow
    {
        get
        {
            lock (gate)
            {
                return windows.Count > 0;
            }
        }
    }

    /// <summary>Whether a window has the user's attention (focused and visible): what rings there needs no OS notification.</summary>
    public bool HasFocus
    {
        get
        {
            lock (gate)
            {
                return windows.Values.Any(w => w.Focused);
            }
        }
    }

    /// <summary>Whether the user is looking at this conversation right now (a focused, visible window showing it).</summary>
    public bool IsShowing(Guid accountId, Guid conversationId)
    {
        lock (gate)
        {
            return windows.Values.Any(w => w.Focused && w.AccountId == accountId && w.ConversationId == conversationId);
        }
    }

    /// <summary>A window reports its state (focus, what it shows); <paramref name="window"/> identifies it.</summary>
    public void Report(object window, bool focused, Guid? accountId, Guid? conversationId)
    {
        lock (gate)
        {
            windows[window] = new WindowReport(focused, accountId, conversationId);
        }
    }

    /// <summary>A window went away.</summary>
    public void Remove(object window)
    {
        lock (gate)
        {
            windows.Remove(window);
        }
    }

    /// <summary>Asks the windows (and the next one to open) to show a conversation.</summary>
    public void RequestOpen(Guid accountId, Guid conversationId)
    {
        lock (gate)
        {
            pendingOpen = (accountId, conversationId);
        }

        OpenRequested?.Invoke(this, new OpenConversationEventArgs(accountId, conversationId));
    }

    /// <summary>The conversation a window opening now should show, once.</summary>
    public (Guid Account, Guid Conversation)? TakePendingOpen()
    {
        lock (gate)
        {
            var pending = pendingOpen;
            pendingOpen = null;
            return pending;
        }
    }

    /// <summary>Asks an open window to show a web notification; false when no window is open to show it.</summary>
    public bool RequestWebNotification(WebNotificationEventArgs notification)
    {
        if (!HasWindow || WebNotificationRequested is not { } handlers)
        {
            return false;
        }

        handlers(this, notification);
        return true;
    }

    private sealed record WindowReport(bool Focused, Guid? AccountId, Guid? ConversationId);
}

/// <summary>A request to show a conversation.</summary>
public sealed class OpenConversationEventArgs(Guid accountId, Guid conversationId) : EventArgs
{
    /// <summary>The account.</summary>
    public Guid AccountId { get; } = accountId;

    /// <summary>The conversation.</summary>
    public Guid ConversationId { get; } = conversationId;
}

/// <summary>A notification for the web Notification API.</summary>
public sealed class WebNotificationEventArgs(string title, string body, Guid accountId, Guid conversationId) : EventArgs
{
    /// <summary>The title.</summary>
    public string Title { get; } = title;

    /// <summary>The body text.</summary>
    public string Body { get; } = body;

    /// <summary>The account it belongs to.</summary>
    public Guid AccountId { get; } = accountId;

    /// <summary>The conversation clicking it opens.</summary>
    public Guid ConversationId { get; } = conversationId;
}
