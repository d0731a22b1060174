using Tmds.DBus.Protocol;

namespace ConnText.Desktop.Notifications;

/// <summary>
/// OS notifications on Linux desktops: the freedesktop.org Notifications service on the session bus
/// (org.freedesktop.Notifications, as GNOME, KDE, dunst, mako... implement it), with a "default" action that opens the
/// conversation. The connection is made on first use and again after it breaks.
/// </summary>
internal sealed partial class FreedesktopNotifications(string? address, ILogger<FreedesktopNotifications> logger) : INotificationSink, IDisposable
{
    private const string Service = "org.freedesktop.Notifications";
    private const string ObjectPath = "/org/freedesktop/Notifications";
    private const string Interface = "org.freedesktop.Notifications";
    private static readonly string[] Actions = ["default", "Open"];
    private readonly SemaphoreSlim connecting = new(1, 1);
    private readonly Dictionary<uint, DesktopNotification> shown = []; // by notification id, until the user acts on it or it closes
    private readonly Lock gate = new();
    private DBusConnection? connection;

    public event EventHandler<NotificationActivatedEventArgs>? Activated;

    public string Name => "freedesktop";

    /// <summary>The session bus address from the environment, or null when there is none (no desktop session).</summary>
    public static string? SessionBusAddress()
    {
        if (Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS") is { Length: > 0 } address)
        {
            return address;
        }

        // systemd's user bus, where the variable was not passed down.
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return runtime is not null && File.Exists(Path.Combine(runtime, "bus")) ? "unix:path=" + Path.Combine(runtime, "bus") : null;
    }

    public async Task<bool> ShowAsync(DesktopNotification notification, CancellationToken cancellationToken)
    {
        try
        {
            var bus = await ConnectAsync(cancellationToken);
            var id = await bus.CallMethodAsync(Notify(bus, notification), static (Message message, object? _) => message.GetBodyReader().ReadUInt32());
            lock (gate)
            {
                shown[id] = notification;
            }

            return true;
        }
        catch (Exception ex) when (ex is DBusExceptionBase or IOException or InvalidOperationException or ObjectDisposedException)
        {
            LogNotifyFailed(logger, ex);
            Reset();
            return false;
        }
    }

    public void Dispose()
    {
        connection?.Dispose();
        connecting.Dispose();
    }

    private static MessageBuffer Notify(DBusConnection bus, DesktopNotification notification)
    {
        using var writer = bus.GetMessageWriter();
        writer.WriteMethodCallHeader(destination: Service, path: ObjectPath, @interface: Interface, member: "Notify", signature: "susssasa{sv}i");
        writer.WriteString("ConnText");     // app_name
        writer.WriteUInt32(0);              // replaces_id
        writer.WriteString("mail-message-new"); // app_icon (a themed icon name every desktop has)
        writer.WriteString(notification.Title);
        writer.WriteString(Escape(notification.Body)); // servers may interpret a markup subset
        writer.WriteArray(Actions); // the default action: clicking the notification
        var hints = writer.WriteDictionaryStart();
        writer.WriteDictionaryEntryStart();
        writer.WriteString("category");
        writer.WriteVariantString("im.received");
        writer.WriteDictionaryEntryStart();
        writer.WriteString("desktop-entry");
        writer.WriteVariantString("conntext");
        writer.WriteDictionaryEntryStart();
        writer.WriteString("urgency");
        writer.WriteVariantByte(notification.Mention ? (byte)2 : (byte)1);
        writer.WriteDictionaryEnd(hints);
        writer.WriteInt32(-1); // expire_timeout: the server's default
        return writer.CreateMessage();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private async Task<DBusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await connecting.WaitAsync(cancellationToken);
        try
        {
            if (connection is { } existing)
            {
                return existing;
            }

            var bus = new DBusConnection(address ?? throw new InvalidOperationException("There is no D-Bus session bus."));
            try
            {
                await bus.ConnectAsync();
                await bus.WatchSignalAsync(Service, ObjectPath, Interface, "ActionInvoked",
                    static (Message message, object? _) =>
                    {
                        var reader = message.GetBodyReader();
                        return (Id: reader.ReadUInt32(), Action: reader.ReadString());
                    },
                    (Notification<(uint Id, string Action)> signal) =>
                    {
                        if (signal.HasValue)
                        {
                            OnAction(signal.Value.Id, signal.Value.Action);
                        }
                    },
                    ObserverFlags.None);
                await bus.WatchSignalAsync(Service, ObjectPath, Interface, "NotificationClosed",
                    static (Message message, object? _) => message.GetBodyReader().ReadUInt32(),
                    (Notification<uint> signal) =>
                    {
                        if (signal.HasValue)
                        {
                            lock (gate)
                            {
                                shown.Remove(signal.Value);
                            }
                        }
                    },
                    ObserverFlags.None);
            }
            catch
            {
                bus.Dispose();
                throw;
            }

            connection = bus;
            return bus;
        }
        finally
        {
            connecting.Release();
        }
    }

    private void OnAction(uint id, string action)
    {
        DesktopNotification? notification;
        lock (gate)
        {
            shown.Remove(id, out notification);
        }

        if (notification is not null && action == "default")
        {
            Activated?.Invoke(this, new NotificationActivatedEventArgs(notification));
        }
    }

    private void Reset()
    {
        // After a failed call: the next notification connects afresh (the bus or the service may have restarted).
        var old = connection;
        connection = null;
        old?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not show a notification on the session bus")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception);
}
