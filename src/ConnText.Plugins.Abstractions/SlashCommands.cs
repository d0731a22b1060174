namespace ConnText.Plugins;

/// <summary>Runs a slash command.</summary>
/// <param name="invocation">What the user typed.</param>
/// <param name="cancellationToken">Cancelled when the command's time is up.</param>
/// <returns>What to do with it.</returns>
public delegate ValueTask<SlashCommandResult> SlashCommandHandler(SlashCommandInvocation invocation, CancellationToken cancellationToken);

/// <summary>A slash command: the user types <c>/Name arguments</c> in the message box.</summary>
/// <param name="Name">The name without the slash: lower-case letters, digits and <c>-</c>.</param>
/// <param name="Description">One line shown in the plugin manager.</param>
/// <param name="Handler">Runs the command.</param>
public sealed record SlashCommand(string Name, string Description, SlashCommandHandler Handler);

/// <summary>A slash command the user typed.</summary>
/// <param name="ConversationId">The conversation it was typed in.</param>
/// <param name="Name">The command's name.</param>
/// <param name="Arguments">Everything after the name, trimmed.</param>
public sealed record SlashCommandInvocation(Guid ConversationId, string Name, string Arguments);

/// <summary>What a slash command produced.</summary>
public sealed class SlashCommandResult
{
    private SlashCommandResult(string? message, string? notice)
    {
        Message = message;
        Notice = notice;
    }

    /// <summary>Nothing to send or show.</summary>
    public static SlashCommandResult None { get; } = new(null, null);

    /// <summary>The message to send in place of the command, or <see langword="null"/>.</summary>
    public string? Message { get; }

    /// <summary>A note shown only to the user, or <see langword="null"/>.</summary>
    public string? Notice { get; }

    /// <summary>Send <paramref name="message"/> in place of the command.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The result.</returns>
    public static SlashCommandResult Send(string message) => new(message, null);

    /// <summary>Show <paramref name="notice"/> to the user only; nothing is sent.</summary>
    /// <param name="notice">The note.</param>
    /// <returns>The result.</returns>
    public static SlashCommandResult Show(string notice) => new(null, notice);
}
