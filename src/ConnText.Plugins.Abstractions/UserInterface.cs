namespace ConnText.Plugins;

/// <summary>
/// A settings panel, declared rather than drawn: the app renders the fields in the plugin manager and saves each value
/// in the plugin's <see cref="IPluginStorage"/> under the field's key.
/// </summary>
/// <remarks>
/// Declarative on purpose in API 1.x: a plugin would otherwise need to reference ASP.NET Core's component model and
/// could render arbitrary markup into the app's window.
/// </remarks>
/// <param name="Title">The panel's heading.</param>
/// <param name="Fields">The fields, in order.</param>
public sealed record SettingsPanel(string Title, IReadOnlyList<SettingField> Fields);

/// <summary>One text field of a <see cref="SettingsPanel"/>.</summary>
/// <param name="Key">The storage key the value is saved under.</param>
/// <param name="Label">The field's label.</param>
/// <param name="Help">A line of help under the field, or <see langword="null"/>.</param>
/// <param name="Multiline">A text area instead of a one-line box.</param>
public sealed record SettingField(string Key, string Label, string? Help = null, bool Multiline = false);

/// <summary>A button beside the message box that puts <paramref name="InsertText"/> into it (for example a command).</summary>
/// <param name="Label">The button's text (a short word or an emoji).</param>
/// <param name="Title">The tooltip and accessible name.</param>
/// <param name="InsertText">The text placed in the message box.</param>
public sealed record ComposerButton(string Label, string Title, string InsertText);

/// <summary>Runs a message action on a message.</summary>
/// <param name="message">The message.</param>
/// <param name="cancellationToken">Cancelled when the action's time is up.</param>
/// <returns>A note shown under the message, or <see langword="null"/>.</returns>
public delegate ValueTask<string?> MessageActionHandler(IncomingMessage message, CancellationToken cancellationToken);

/// <summary>An action offered on each message from someone else.</summary>
/// <param name="Label">The action's name.</param>
/// <param name="Handler">Runs it.</param>
public sealed record MessageAction(string Label, MessageActionHandler Handler);
