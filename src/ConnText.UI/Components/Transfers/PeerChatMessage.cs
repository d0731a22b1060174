namespace ConnText.UI.Components.Transfers;

/// <summary>A message of a peer-to-peer conversation as it goes over the data channel (peers.js <c>deliver</c>).</summary>
/// <param name="Id">The message id (the sender's client message id), so a resend is stored once.</param>
/// <param name="ConversationId">The peer-to-peer conversation.</param>
/// <param name="Text">The text.</param>
/// <param name="SentAt">When the sender wrote it.</param>
public sealed record PeerChatMessage(string Id, string ConversationId, string? Text, DateTimeOffset SentAt);
