using ConnText.Client.Sessions;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components.Transfers;

/// <summary>
/// Between a conversation's "Send directly" picker and the window's <see cref="PeerTransfers"/> (one per circuit): the
/// picker hands over the file input, the panel owns the transfer.
/// </summary>
public sealed class TransferRequests
{
    /// <summary>Asks the panel to send the file chosen in <paramref name="input"/> to <paramref name="toUserId"/>.</summary>
    public Task SendAsync(AccountSession session, Guid toUserId, Guid conversationId, ElementReference input) =>
        Sender?.Invoke(session, toUserId, conversationId, input) ?? Task.CompletedTask;

    /// <summary>Set by the window's panel.</summary>
    internal Func<AccountSession, Guid, Guid, ElementReference, Task>? Sender { get; set; }
}
