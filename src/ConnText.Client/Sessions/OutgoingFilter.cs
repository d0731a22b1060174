namespace ConnText.Client.Sessions;

/// <summary>
/// Sees every message the user writes before it enters the outbox (the desktop's plugins: slash commands, outgoing
/// hooks). Set it in <see cref="AccountSessionOptions.OutgoingFilter"/>; <see cref="AccountSession.SendAsync"/> calls it.
/// </summary>
public interface IOutgoingFilter
{
    /// <summary>Decides what is sent in place of <paramref name="text"/>, if anything.</summary>
    /// <param name="session">The account the message is written in.</param>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="text">What the user wrote.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    /// <returns>The verdict.</returns>
    ValueTask<OutgoingVerdict> FilterAsync(AccountSession session, Guid conversationId, string text, CancellationToken cancellationToken);
}

/// <summary>What an <see cref="IOutgoingFilter"/> decided about a message.</summary>
public sealed class OutgoingVerdict
{
    private OutgoingVerdict(string? text, string? refusal)
    {
        Text = text;
        Refusal = refusal;
    }

    /// <summary>Nothing to send, and nothing wrong (a command that only showed something).</summary>
    public static OutgoingVerdict Handled { get; } = new(null, null);

    /// <summary>The text to queue, or <see langword="null"/>.</summary>
    public string? Text { get; }

    /// <summary>Why the message was not sent, shown to the user; or <see langword="null"/>.</summary>
    public string? Refusal { get; }

    /// <summary>Queue <paramref name="text"/>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The verdict.</returns>
    public static OutgoingVerdict Send(string text) => new(text, null);

    /// <summary>Do not send; show <paramref name="reason"/>.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The verdict.</returns>
    public static OutgoingVerdict Refuse(string reason) => new(null, reason);
}
