using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace ConnText.Plugins.Hosting;

/// <summary>
/// The one object a plugin gets from the app. Every capability checks the manifest's permissions here, at the API, so
/// a plugin cannot reach a capability its user did not see and grant. It holds no account, session or token: what it
/// can reach is the <see cref="PluginHost"/>'s narrow callbacks.
/// </summary>
internal sealed partial class PluginContext : IPluginContext
{
    private readonly PluginHost host;
    private readonly PluginEntry entry;
    private readonly PluginRuntime runtime;
    private readonly HashSet<string> granted;
    private readonly PluginStorage storage;
    private volatile bool closed;

    public PluginContext(PluginHost host, PluginEntry entry, PluginRuntime runtime, string storagePath, ILogger logger)
    {
        this.host = host;
        this.entry = entry;
        this.runtime = runtime;
        granted = [.. entry.Permissions];
        storage = new PluginStorage(storagePath);
        Log = new PluginLog(logger, entry.Id);
    }

    public string PluginId => entry.Id;

    public IReadOnlyCollection<string> Permissions => granted;

    public IPluginLog Log { get; }

    public IPluginStorage Storage
    {
        get
        {
            Require(PluginPermissions.Storage);
            return storage;
        }
    }

    /// <summary>The store, for the settings panel the app draws (the user edits it, not the plugin).</summary>
    internal PluginStorage SettingsStorage => storage;

    public void AddSlashCommand(SlashCommand command)
    {
        Require(PluginPermissions.Commands);
        ArgumentNullException.ThrowIfNull(command.Handler);
        if (!CommandName().IsMatch(command.Name))
        {
            throw new ArgumentException("A command name is 1-32 lower-case letters, digits or '-'.", nameof(command));
        }

        host.Register(runtime, () => runtime.Commands.Add(command));
    }

    public void AddOutgoingHook(OutgoingMessageHook hook)
    {
        Require(PluginPermissions.OutgoingMessages);
        host.Register(runtime, () => runtime.OutgoingHooks.Add(hook));
    }

    public void AddIncomingHook(IncomingMessageHook hook)
    {
        Require(PluginPermissions.IncomingMessages);
        host.Register(runtime, () => runtime.IncomingHooks.Add(hook));
    }

    public ValueTask NotifyAsync(PluginNotification notification, CancellationToken cancellationToken)
    {
        Require(PluginPermissions.Notifications);
        host.AddNotice(new PluginNotice(entry.Id, entry.Name, Truncate(notification.Title, 120), Truncate(notification.Body, 500), false));
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> SendMessageAsync(Guid conversationId, string text, CancellationToken cancellationToken)
    {
        Require(PluginPermissions.SendMessages);
        bool shown;
        lock (runtime.Conversations)
        {
            shown = runtime.Conversations.Contains(conversationId);
        }

        return ValueTask.FromResult(shown && !closed && host.Messenger?.TrySend(conversationId, text) == true);
    }

    public HttpClient CreateHttpClient()
    {
        Require(PluginPermissions.Network);
        // A client of its own: no handler shared with the engine, so no cookie, bearer token or base address leaks in.
#pragma warning disable CA2000 // the client owns the handler (disposeHandler: true); the plugin owns and disposes the client
        return new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = true }, disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
#pragma warning restore CA2000
    }

    public void AddSettingsPanel(SettingsPanel panel)
    {
        Require(PluginPermissions.UserInterface);
        Require(PluginPermissions.Storage);
        host.Register(runtime, () => runtime.SettingsPanels.Add(panel));
    }

    public void AddComposerButton(ComposerButton button)
    {
        Require(PluginPermissions.UserInterface);
        host.Register(runtime, () => runtime.ComposerButtons.Add(button));
    }

    public void AddMessageAction(MessageAction action)
    {
        Require(PluginPermissions.UserInterface);
        host.Register(runtime, () => runtime.MessageActions.Add(action));
    }

    /// <summary>After deactivation: whatever the plugin still holds of this context does nothing.</summary>
    internal void Close() => closed = true;

    private void Require(string permission)
    {
        if (!granted.Contains(permission))
        {
            throw new PluginPermissionException(permission, entry.Id);
        }
    }

    private static string Truncate(string? text, int length) =>
        text is null ? "" : text.Length <= length ? text : text[..length] + "…";

    [GeneratedRegex("^[a-z0-9-]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommandName();

    private sealed partial class PluginLog(ILogger logger, string pluginId) : IPluginLog
    {
        public void Info(string message) => LogInfo(logger, pluginId, message);

        public void Warning(string message) => LogWarning(logger, pluginId, message);

        public void Failure(string message, Exception? exception = null) => LogError(logger, pluginId, message, exception);

        [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {PluginId}: {Text}")]
        private static partial void LogInfo(ILogger logger, string pluginId, string text);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {PluginId}: {Text}")]
        private static partial void LogWarning(ILogger logger, string pluginId, string text);

        [LoggerMessage(Level = LogLevel.Error, Message = "Plugin {PluginId}: {Text}")]
        private static partial void LogError(ILogger logger, string pluginId, string text, Exception? exception);
    }
}

/// <summary>Something to show the user: a plugin's notification, a command's note, or a plugin the app disabled.</summary>
public sealed record PluginNotice(string PluginId, string PluginName, string Title, string Body, bool IsProblem)
{
    public Guid Id { get; } = Guid.NewGuid();
}

/// <summary>A plugin's note under a message.</summary>
public sealed record MessageNote(string PluginId, string PluginName, string Text);
