namespace ConnText.Desktop.Notifications;

/// <summary>Where notifications are shown: the OS (freedesktop over D-Bus) or, failing that, the open window.</summary>
internal interface INotificationSink
{
    /// <summary>Raised when the user acted on a notification (clicked it).</summary>
    event EventHandler<NotificationActivatedEventArgs>? Activated;

    /// <summary>A short name for logs and the UI.</summary>
    string Name { get; }

    /// <summary>Shows a notification; false when it could not be shown.</summary>
    Task<bool> ShowAsync(DesktopNotification notification, CancellationToken cancellationToken);
}

/// <summary>One notification.</summary>
/// <param name="AccountId">The account it is about.</param>
/// <param name="ConversationId">The conversation acting on it opens.</param>
/// <param name="Title">The title: who, and where.</param>
/// <param name="Body">The message as plain text, shortened.</param>
/// <param name="Mention">Whether it mentions the user (shown as urgent).</param>
internal sealed record DesktopNotification(Guid AccountId, Guid ConversationId, string Title, string Body, bool Mention);

/// <summary>The user acted on a notification.</summary>
internal sealed class NotificationActivatedEventArgs(DesktopNotification notification) : EventArgs
{
    public DesktopNotification Notification { get; } = notification;
}

/// <summary>
/// Notifications through the open window's web Notification API: where there is no OS notification service (other
/// platforms, no D-Bus session), and only while a window is open.
/// </summary>
internal sealed class WindowNotifications(ConnText.UI.Shell.WindowActivity activity) : INotificationSink
{
    // Clicks come back through the window itself (it selects the conversation).
    public event EventHandler<NotificationActivatedEventArgs>? Activated
    {
        add { }
        remove { }
    }

    public string Name => "window";

    public Task<bool> ShowAsync(DesktopNotification notification, CancellationToken cancellationToken) =>
        Task.FromResult(activity.RequestWebNotification(new ConnText.UI.Shell.WebNotificationEventArgs(
            notification.Title, notification.Body, notification.AccountId, notification.ConversationId)));
}
