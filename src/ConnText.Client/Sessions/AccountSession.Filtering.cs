namespace ConnText.Client.Sessions;

public sealed partial class AccountSession
{
    private IOutgoingFilter? outgoingFilter;

    /// <summary>
    /// Writes a message the user typed: the <see cref="AccountSessionOptions.OutgoingFilter"/> (plugins) sees it first
    /// and may replace, handle or refuse it; what remains goes to the outbox as with <see cref="Send"/>.
    /// </summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="text">What the user wrote.</param>
    /// <param name="replyToMessageId">The message it replies to, if any.</param>
    /// <param name="cancellationToken">Cancels the filter.</param>
    /// <returns>False when the message was refused (<see cref="LastError"/> says why): the draft should stay.</returns>
    public async Task<bool> SendAsync(Guid conversationId, string text, Guid? replyToMessageId, CancellationToken cancellationToken)
    {
        if (outgoingFilter is not null)
        {
            var verdict = await outgoingFilter.FilterAsync(this, conversationId, text, cancellationToken);
            if (verdict.Refusal is { } refusal)
            {
                LastError = refusal;
                OnChanged();
                return false;
            }

            if (verdict.Text is null)
            {
                return true;
            }

            text = verdict.Text;
        }

        Send(conversationId, text, replyToMessageId);
        return true;
    }
}
