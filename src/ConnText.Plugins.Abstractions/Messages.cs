namespace ConnText.Plugins;

/// <summary>Sees a message the user is sending, before it is queued.</summary>
/// <param name="message">The message.</param>
/// <param name="cancellationToken">Cancelled when the hook's time is up.</param>
/// <returns>Whether to send it, with which text.</returns>
public delegate ValueTask<OutgoingDecision> OutgoingMessageHook(OutgoingMessage message, CancellationToken cancellationToken);

/// <summary>Sees a new message from someone else.</summary>
/// <param name="message">The message.</param>
/// <param name="cancellationToken">Cancelled when the hook's time is up.</param>
/// <returns>A short note to show under the message, or <see langword="null"/>.</returns>
public delegate ValueTask<string?> IncomingMessageHook(IncomingMessage message, CancellationToken cancellationToken);

/// <summary>A message the user is sending.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="ConversationName">The conversation's name as the user sees it.</param>
/// <param name="Text">The text so far (earlier hooks may have changed it).</param>
public sealed record OutgoingMessage(Guid ConversationId, string ConversationName, string Text);

/// <summary>A new message from someone else.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="MessageId">The message.</param>
/// <param name="ConversationName">The conversation's name as the user sees it.</param>
/// <param name="SenderName">The sender's display name.</param>
/// <param name="Text">The text (Markdown subset).</param>
/// <param name="SentAt">When the server stored it.</param>
public sealed record IncomingMessage(Guid ConversationId, Guid MessageId, string ConversationName, string SenderName, string Text, DateTimeOffset SentAt);

/// <summary>What an <see cref="OutgoingMessageHook"/> decided.</summary>
public sealed class OutgoingDecision
{
    private OutgoingDecision(string? text, string? vetoReason)
    {
        Text = text;
        VetoReason = vetoReason;
    }

    /// <summary>Send the message as it is.</summary>
    public static OutgoingDecision Keep { get; } = new(null, null);

    /// <summary>The replacement text, or <see langword="null"/> to keep the text.</summary>
    public string? Text { get; }

    /// <summary>Why the message must not be sent, or <see langword="null"/>.</summary>
    public string? VetoReason { get; }

    /// <summary>Send <paramref name="text"/> instead.</summary>
    /// <param name="text">The new text.</param>
    /// <returns>The decision.</returns>
    public static OutgoingDecision Replace(string text) => new(text, null);

    /// <summary>Do not send; the user sees <paramref name="reason"/> and keeps nothing queued.</summary>
    /// <param name="reason">Shown to the user.</param>
    /// <returns>The decision.</returns>
    public static OutgoingDecision Veto(string reason) => new(null, reason);
}

/// <summary>A notification to show the user.</summary>
/// <param name="Title">The title (one line).</param>
/// <param name="Body">The text.</param>
public sealed record PluginNotification(string Title, string Body);
