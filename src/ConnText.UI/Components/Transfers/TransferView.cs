namespace ConnText.UI.Components.Transfers;

/// <summary>A direct transfer as the WebRTC module reports it (peers.js <c>view()</c>).</summary>
/// <param name="Id">The transfer (chosen by the sender).</param>
/// <param name="Direction"><c>out</c> (sending) or <c>in</c> (receiving).</param>
/// <param name="Name">The file's name as the sender gave it.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="State">hashing, connecting, waiting, sending, interrupted, resuming, verifying, done, failed, offered, receiving, …</param>
/// <param name="Done">Bytes hashed, sent or stored so far.</param>
/// <param name="Sha256">The SHA-256 the sender announced (hex).</param>
/// <param name="Error">Why it failed, if it did.</param>
/// <param name="Path">Where the receiver stored it, once done.</param>
/// <param name="DeviceId">The other device.</param>
/// <param name="UserId">The other user.</param>
/// <param name="Interruptions">How often the connection dropped during the transfer (each time it resumed where it was).</param>
public sealed record TransferView(
    string Id, string Direction, string Name, long Size, string State, long Done, string? Sha256, string? Error, string? Path, string? DeviceId, Guid? UserId,
    int Interruptions = 0);
