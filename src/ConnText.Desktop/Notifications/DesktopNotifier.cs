using ConnText.Client.Calls;
using ConnText.Client.Sessions;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Hosting;
using ConnText.Desktop.Launch;
using ConnText.UI.Shell;
using ConnText.UI.Text;
using Microsoft.Extensions.Options;

namespace ConnText.Desktop.Notifications;

/// <summary>
/// Turns new messages from others into notifications, in every account, while the user is not looking at that
/// conversation (the window unfocused, hidden, showing another conversation, or closed with the engine still running).
/// Muted conversations notify only when they mention the user. Calls notify too: an incoming call while no window has
/// the user's attention (closed, or in the background), urgent; and a call the user missed. Acting on a notification
/// opens the conversation, bringing the window up if it was closed (where a call still ringing rings).
/// </summary>
internal sealed partial class DesktopNotifier(
    AccountManager accounts,
    WindowActivity activity,
    INotificationSink sink,
    AppWindow window,
    IOptions<DesktopOptions> options,
    ILogger<DesktopNotifier> logger) : IHostedService
{
    private const int MaxBody = 200;

    private readonly Lock gate = new();
    private readonly HashSet<AccountSession> watched = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        accounts.MessageReceived += OnMessageReceived;
        accounts.Changed += OnAccountsChanged;
        sink.Activated += OnActivated;
        WatchCalls();
        LogSink(logger, sink.Name);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        accounts.MessageReceived -= OnMessageReceived;
        accounts.Changed -= OnAccountsChanged;
        sink.Activated -= OnActivated;
        lock (gate)
        {
            foreach (var s in watched)
            {
                s.Calls.CallChanged -= OnCallChanged;
            }

            watched.Clear();
        }

        return Task.CompletedTask;
    }

    /// <summary>The notification for a call event (<see cref="NotificationPolicy.DecideCall"/>), or null.</summary>
    internal static DesktopNotification? ComposeCall(AccountSession session, string kind, CallResponse call, bool windowFocused, bool severalAccounts)
    {
        var me = session.Account.UserId;
        var notice = NotificationPolicy.DecideCall(kind, call, me, windowFocused, session.DoNotDisturb);
        if (notice == CallNotice.None || session.Store.Conversation(call.ConversationId)?.Conversation is not { } conversation)
        {
            return null;
        }

        var caller = Names.Member(conversation, call.InitiatorId);
        var title = conversation.Kind == ConversationKinds.Group ? $"{caller} in {Names.Conversation(conversation, me)}" : caller;
        if (severalAccounts)
        {
            title += $" ({session.Account.Label})";
        }

        var media = call.Media == CallMedia.Video ? "video call" : "audio call";
        return notice == CallNotice.Incoming
            ? new DesktopNotification(session.Account.Id, call.ConversationId, title, $"Incoming {media}: open ConnText to answer", true)
            : new DesktopNotification(session.Account.Id, call.ConversationId, title, $"Missed {media}", false);
    }

    private void OnAccountsChanged(object? sender, EventArgs e) => WatchCalls();

    private void WatchCalls()
    {
        lock (gate)
        {
            foreach (var s in accounts.Sessions)
            {
                if (watched.Add(s))
                {
                    s.Calls.CallChanged += OnCallChanged;
                }
            }
        }
    }

    private void OnCallChanged(object? sender, CallChangedEventArgs e)
    {
        AccountSession? session;
        lock (gate)
        {
            session = watched.FirstOrDefault(s => ReferenceEquals(s.Calls, sender));
        }

        if (session is not null && ComposeCall(session, e.Kind, e.Change.Call, activity.HasFocus, accounts.Sessions.Count > 1) is { } notification)
        {
            _ = ShowAsync(notification);
        }
    }

    /// <summary>The notification's text: "Alice" for a direct message, "Alice in Project" for a group; plain text.</summary>
    internal static DesktopNotification Compose(AccountSession session, MessageResponse message, bool mention, bool severalAccounts)
    {
        var conversation = session.Store.Conversation(message.ConversationId)!.Conversation;
        var sender = Names.Member(conversation, message.SenderId);
        var title = conversation.Kind is ConversationKinds.Direct or ConversationKinds.PeerToPeer
            ? sender
            : $"{sender} in {Names.Conversation(conversation, session.Account.UserId)}";
        if (severalAccounts)
        {
            title += $" ({session.Account.Label})";
        }

        var body = MarkdownRenderer.ToPlainText(message.Text ?? "");
        if (message.Attachments.Count > 0)
        {
            body = (body.Length > 0 ? body + " " : "") + $"[{message.Attachments.Count} attachment{(message.Attachments.Count == 1 ? "" : "s")}]";
        }

        if (body.Length > MaxBody)
        {
            body = body[..(MaxBody - 1)] + "…";
        }

        return new DesktopNotification(session.Account.Id, message.ConversationId, title, body, mention);
    }

    private void OnMessageReceived(object? sender, MessageEventArgs e)
    {
        var session = e.Session;
        var conversation = session.Store.Conversation(e.Message.ConversationId)?.Conversation;
        var (notify, mention) = NotificationPolicy.Decide(conversation, session.Account.Id, session.Account.UserId, e.Message, activity,
            session.DoNotDisturb);
        if (!notify)
        {
            return;
        }

        _ = ShowAsync(Compose(e.Session, e.Message, mention, accounts.Sessions.Count > 1));
    }

    private async Task ShowAsync(DesktopNotification notification)
    {
        if (!await sink.ShowAsync(notification, CancellationToken.None) && sink is not WindowNotifications)
        {
            // The notification service is gone (or never was): an open window can still show a web notification.
            await new WindowNotifications(activity).ShowAsync(notification, CancellationToken.None);
        }
    }

    private void OnActivated(object? sender, NotificationActivatedEventArgs e)
    {
        var hadWindow = activity.HasWindow;
        activity.RequestOpen(e.Notification.AccountId, e.Notification.ConversationId);
        if (!hadWindow && !options.Value.Headless)
        {
            window.Open(); // The new window takes the pending request.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notifications go to {Sink}")]
    private static partial void LogSink(ILogger logger, string sink);
}

/// <summary>Registration of the notifications feature.</summary>
internal static class NotificationsSetup
{
    /// <summary>
    /// Adds notifications per <c>ConnText:Desktop:Notifications</c>: <c>auto</c> (the freedesktop service when there is
    /// a session bus, else the window), <c>freedesktop</c>, <c>window</c>, or <c>off</c>.
    /// </summary>
    public static IServiceCollection AddDesktopNotifications(this IServiceCollection services, DesktopOptions options)
    {
        var mode = options.Notifications.Trim().ToUpperInvariant();
        if (mode is not ("AUTO" or "FREEDESKTOP" or "WINDOW" or "OFF"))
        {
            throw new InvalidOperationException(
                $"ConnText:Desktop:Notifications is \"{options.Notifications}\": use auto, freedesktop, window or off.");
        }

        if (mode == "OFF")
        {
            return services;
        }

        var bus = FreedesktopNotifications.SessionBusAddress();
        if (mode == "FREEDESKTOP" || (mode == "AUTO" && bus is not null && OperatingSystem.IsLinux()))
        {
            services.AddSingleton<INotificationSink>(s => new FreedesktopNotifications(bus, s.GetRequiredService<ILogger<FreedesktopNotifications>>()));
        }
        else
        {
            services.AddSingleton<INotificationSink, WindowNotifications>();
        }

        services.AddHostedService<DesktopNotifier>();
        return services;
    }
}
