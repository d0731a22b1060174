namespace ConnText.Contracts.Calls;

/// <summary>What a call carries.</summary>
public static class CallMedia
{
    /// <summary>Voice only.</summary>
    public const string Audio = "audio";

    /// <summary>Voice and camera.</summary>
    public const string Video = "video";
}

/// <summary>A call's state: ringing → active → ended (a ringing call may also end directly).</summary>
public static class CallStates
{
    /// <summary>Started; no callee has answered yet.</summary>
    public const string Ringing = "ringing";

    /// <summary>At least one callee answered.</summary>
    public const string Active = "active";

    /// <summary>Over; <c>endReason</c> says why.</summary>
    public const string Ended = "ended";
}

/// <summary>Why a call ended.</summary>
public static class CallEndReasons
{
    /// <summary>It was answered and then hung up (or its last participant left).</summary>
    public const string Completed = "completed";

    /// <summary>The callee (every callee of a group call) declined.</summary>
    public const string Declined = "declined";

    /// <summary>Nobody answered before the ring timeout.</summary>
    public const string Missed = "missed";

    /// <summary>The callee of a direct call was already in another call.</summary>
    public const string Busy = "busy";

    /// <summary>The caller hung up before anyone answered.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>A participant's device disconnected and did not come back within the grace period.</summary>
    public const string Failed = "failed";
}

/// <summary>A participant's state in a call.</summary>
public static class CallParticipantStates
{
    /// <summary>Being rung (or allowed to join a group call).</summary>
    public const string Invited = "invited";

    /// <summary>In the call with one device (<c>deviceId</c>).</summary>
    public const string Joined = "joined";

    /// <summary>Was in the call and left (or was dropped after a disconnect).</summary>
    public const string Left = "left";

    /// <summary>Declined the call.</summary>
    public const string Declined = "declined";

    /// <summary>Never answered before the call ended.</summary>
    public const string Missed = "missed";
}

/// <summary>The names of the realtime hub's call events (see docs/protocol.md, "Calls").</summary>
public static class CallEvents
{
    /// <summary>A call rings this user's devices (<see cref="CallEvent"/>).</summary>
    public const string CallRinging = "CallRinging";

    /// <summary>The first callee answered: the call is active (<see cref="CallEvent"/>; userId/deviceId: who answered).</summary>
    public const string CallAccepted = "CallAccepted";

    /// <summary>Another device of this user answered or joined: stop ringing here (<see cref="CallEvent"/>).</summary>
    public const string CallAnsweredElsewhere = "CallAnsweredElsewhere";

    /// <summary>A callee declined (<see cref="CallEvent"/>; userId: who).</summary>
    public const string CallDeclined = "CallDeclined";

    /// <summary>Someone joined an active call (<see cref="CallEvent"/>).</summary>
    public const string CallParticipantJoined = "CallParticipantJoined";

    /// <summary>Someone left a call that goes on (<see cref="CallEvent"/>).</summary>
    public const string CallParticipantLeft = "CallParticipantLeft";

    /// <summary>The call is over (<see cref="CallEvent"/>; <c>call.endReason</c> says why).</summary>
    public const string CallEnded = "CallEnded";

    /// <summary>A signaling message from another device of the call (<see cref="SignalEvent"/>).</summary>
    public const string Signal = "Signal";

    /// <summary>
    /// A signaling message outside calls (<see cref="PeerSignalEvent"/>): data-channel connections for peer-to-peer
    /// file transfer, between users who share a conversation.
    /// </summary>
    public const string PeerSignal = "PeerSignal";
}

/// <summary>One user's part in a call.</summary>
/// <param name="UserId">The user.</param>
/// <param name="State">See <see cref="CallParticipantStates"/>.</param>
/// <param name="DeviceId">The device that answered or joined; null until then.</param>
/// <param name="JoinedAt">When they (last) joined.</param>
/// <param name="LeftAt">When they left.</param>
public sealed record CallParticipantResponse(Guid UserId, string State, string? DeviceId, DateTimeOffset? JoinedAt, DateTimeOffset? LeftAt);

/// <summary>A call.</summary>
/// <param name="Id">The call id.</param>
/// <param name="ConversationId">The conversation it belongs to.</param>
/// <param name="Media"><c>audio</c> or <c>video</c>.</param>
/// <param name="InitiatorId">Who started it.</param>
/// <param name="State">See <see cref="CallStates"/>.</param>
/// <param name="EndReason">Once ended: see <see cref="CallEndReasons"/>.</param>
/// <param name="CreatedAt">When it started ringing.</param>
/// <param name="RingDeadline">When it stops ringing (ends as missed if nobody answered).</param>
/// <param name="AnsweredAt">When the first callee answered.</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="DurationSeconds">Whole seconds from the first answer to the end; 0 if never answered; null while not ended.</param>
/// <param name="Participants">Everyone rung or joined.</param>
public sealed record CallResponse(
    Guid Id,
    Guid ConversationId,
    string Media,
    Guid InitiatorId,
    string State,
    string? EndReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset RingDeadline,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    long? DurationSeconds,
    IReadOnlyList<CallParticipantResponse> Participants);

/// <summary>A page of calls, newest first.</summary>
/// <param name="Items">The calls.</param>
/// <param name="HasMore">Whether older calls follow; ask again with <c>before</c> = the last item's id.</param>
public sealed record CallPageResponse(IReadOnlyList<CallResponse> Items, bool HasMore);

/// <summary>The argument of every call event of the hub except <c>Signal</c>.</summary>
/// <param name="Call">The call's state right after the change.</param>
/// <param name="UserId">The user the change is about (who answered, declined, joined or left), if any.</param>
/// <param name="DeviceId">Their device, if any.</param>
public sealed record CallEvent(CallResponse Call, Guid? UserId, string? DeviceId);

/// <summary>A signaling message relayed from one device of a call to another.</summary>
/// <param name="CallId">The call.</param>
/// <param name="FromUserId">The sender.</param>
/// <param name="FromDeviceId">The sending device (address the answer to it).</param>
/// <param name="Payload">Opaque to the server: an SDP offer or answer, an ICE candidate, … as the clients agree.</param>
public sealed record SignalEvent(Guid CallId, Guid FromUserId, string FromDeviceId, string Payload);

/// <summary>A signaling message outside calls, relayed from a device of a user who shares a conversation with this one.</summary>
/// <param name="FromUserId">The sender.</param>
/// <param name="FromDeviceId">The sending device (address the answer to it).</param>
/// <param name="ToDeviceId">The device it is for; null when it went to every device of the user (finding who is online).</param>
/// <param name="Payload">Opaque to the server.</param>
public sealed record PeerSignalEvent(Guid FromUserId, string FromDeviceId, string? ToDeviceId, string Payload);

/// <summary>The details a <c>call.ended</c> system message carries.</summary>
/// <param name="CallId">The call.</param>
/// <param name="Media"><c>audio</c> or <c>video</c>.</param>
/// <param name="EndReason">See <see cref="CallEndReasons"/>.</param>
/// <param name="DurationSeconds">Whole seconds from the first answer to the end; 0 if never answered.</param>
public sealed record CallSummaryResponse(Guid CallId, string Media, string EndReason, long DurationSeconds);

/// <summary>One entry of <c>RTCConfiguration.iceServers</c>.</summary>
/// <param name="Urls">STUN or TURN URLs.</param>
/// <param name="Username">For TURN: <c>expiry:userId</c> (coturn's TURN REST scheme).</param>
/// <param name="Credential">For TURN: base64(HMAC-SHA1(shared secret, username)).</param>
public sealed record IceServerResponse(IReadOnlyList<string> Urls, string? Username = null, string? Credential = null);

/// <summary>The ICE servers a client passes to <c>RTCPeerConnection</c>.</summary>
/// <param name="IceServers">STUN entries without credentials, then TURN entries with short-lived ones.</param>
/// <param name="ExpiresAt">When the TURN credentials stop working: fetch new ones before starting a call after this.</param>
public sealed record IceServersResponse(IReadOnlyList<IceServerResponse> IceServers, DateTimeOffset ExpiresAt);
