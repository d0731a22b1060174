namespace ConnText.Plugins;

/// <summary>
/// What a plugin may do, given to <see cref="IPlugin.ActivateAsync"/>. Each member says which permission it needs;
/// without it the member throws <see cref="PluginPermissionException"/>.
/// </summary>
/// <remarks>
/// A plugin sees the messages its hooks are given and nothing else: no account, token, key, address book or other
/// account's data is reachable through this interface. Every hook runs with a timeout; a plugin whose hooks throw or
/// time out repeatedly is disabled by the host.
/// </remarks>
public interface IPluginContext
{
    /// <summary>The plugin's id (from its manifest).</summary>
    string PluginId { get; }

    /// <summary>The permissions the user granted, which are the ones the manifest declares.</summary>
    IReadOnlyCollection<string> Permissions { get; }

    /// <summary>The plugin's log (no permission needed). Never log message text or anything personal.</summary>
    IPluginLog Log { get; }

    /// <summary>The plugin's own key-value data, kept on this device. Needs <see cref="PluginPermissions.Storage"/>.</summary>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    IPluginStorage Storage { get; }

    /// <summary>Adds a slash command (<c>/name arguments</c> in the message box). Needs <see cref="PluginPermissions.Commands"/>.</summary>
    /// <param name="command">The command.</param>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    void AddSlashCommand(SlashCommand command);

    /// <summary>
    /// Adds a hook that sees each message the user sends before it is queued, and may replace its text or stop it.
    /// Needs <see cref="PluginPermissions.OutgoingMessages"/>.
    /// </summary>
    /// <param name="hook">The hook.</param>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    void AddOutgoingHook(OutgoingMessageHook hook);

    /// <summary>
    /// Adds a hook that sees each new message from someone else and may return a short note shown under it.
    /// Needs <see cref="PluginPermissions.IncomingMessages"/>.
    /// </summary>
    /// <param name="hook">The hook.</param>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    void AddIncomingHook(IncomingMessageHook hook);

    /// <summary>Shows a notification. Needs <see cref="PluginPermissions.Notifications"/>.</summary>
    /// <param name="notification">What to show.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the notification was handed to the app.</returns>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    ValueTask NotifyAsync(PluginNotification notification, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a message in the user's name to a conversation the plugin was shown (through a hook or command).
    /// Needs <see cref="PluginPermissions.SendMessages"/>.
    /// </summary>
    /// <param name="conversationId">The conversation, from <see cref="IncomingMessage"/>, <see cref="OutgoingMessage"/> or <see cref="SlashCommandInvocation"/>.</param>
    /// <param name="text">The message (Markdown subset).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when the message was queued; false when the conversation is unknown.</returns>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    ValueTask<bool> SendMessageAsync(Guid conversationId, string text, CancellationToken cancellationToken);

    /// <summary>
    /// Creates an HTTP client for requests to other hosts; the plugin disposes it. Needs <see cref="PluginPermissions.Network"/>.
    /// </summary>
    /// <returns>A new client without credentials.</returns>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    HttpClient CreateHttpClient();

    /// <summary>
    /// Adds the plugin's settings panel to the plugin manager; the values the user saves land in <see cref="Storage"/>
    /// under each field's key. Needs <see cref="PluginPermissions.UserInterface"/> and <see cref="PluginPermissions.Storage"/>.
    /// </summary>
    /// <param name="panel">The panel.</param>
    /// <exception cref="PluginPermissionException">The manifest lacks a permission.</exception>
    void AddSettingsPanel(SettingsPanel panel);

    /// <summary>Adds a button beside the message box. Needs <see cref="PluginPermissions.UserInterface"/>.</summary>
    /// <param name="button">The button.</param>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    void AddComposerButton(ComposerButton button);

    /// <summary>Adds an action to every received message. Needs <see cref="PluginPermissions.UserInterface"/>.</summary>
    /// <param name="action">The action.</param>
    /// <exception cref="PluginPermissionException">The manifest lacks the permission.</exception>
    void AddMessageAction(MessageAction action);
}

/// <summary>A plugin's log; entries go to the app's log with the plugin's id.</summary>
public interface IPluginLog
{
    /// <summary>Something worth knowing.</summary>
    /// <param name="message">The entry (no message text, no personal data).</param>
    void Info(string message);

    /// <summary>Something went wrong but the plugin carries on.</summary>
    /// <param name="message">The entry.</param>
    void Warning(string message);

    /// <summary>Something failed.</summary>
    /// <param name="message">The entry.</param>
    /// <param name="exception">The cause, if any.</param>
    void Failure(string message, Exception? exception = null);
}

/// <summary>A plugin's own key-value data on this device (one file per plugin, readable only by the user).</summary>
public interface IPluginStorage
{
    /// <summary>The stored keys.</summary>
    IReadOnlyCollection<string> Keys { get; }

    /// <summary>The value of <paramref name="key"/>, or <see langword="null"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    string? GetValue(string key);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>; <see langword="null"/> removes it.</summary>
    /// <param name="key">The key (at most 200 characters).</param>
    /// <param name="value">The value (the whole store is limited to 1 MiB).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the value is on disk.</returns>
    ValueTask SetValueAsync(string key, string? value, CancellationToken cancellationToken);
}
