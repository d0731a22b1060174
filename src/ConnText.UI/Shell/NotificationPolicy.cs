using ConnText.Contracts.Conversations;

namespace ConnText.UI.Shell;

/// <summary>When a new message raises a notification.</summary>
public static class NotificationPolicy
{
    /// <summary>
    /// Whether a message deserves a notification, and whether it mentions the user: not the user's own, not a
    /// conversation a focused window shows, in a muted conversation only a mention, and nothing at all while the
    /// account is on do-not-disturb.
    /// </summary>
    public static (bool Notify, bool Mention) Decide(
        ConversationResponse? conversation, Guid accountId, Guid me, MessageResponse message, WindowActivity activity, bool doNotDisturb = false)
    {
        if (doNotDisturb || conversation is null || message.SenderId == me || message.DeletedAt is not null || message.Kind != MessageKinds.Text)
        {
            return (false, false);
        }

        var mention = message.Mentions.Contains(me);
        if (activity.IsShowing(accountId, message.ConversationId) || (conversation.Muted && !mention))
        {
            return (false, mention);
        }

        return (true, mention);
    }

    /// <summary>
    /// Whether a call event deserves a notification: an incoming call (not the user's own) while no window has the
    /// user's attention (the ringing card shows in a focused one), or a call rung for the user that ended unanswered
    /// (missed, cancelled by the caller, busy) likewise; nothing while on do-not-disturb.
    /// </summary>
    public static CallNotice DecideCall(string kind, ConnText.Contracts.Calls.CallResponse call, Guid me, bool windowFocused, bool doNotDisturb = false)
    {
        ArgumentNullException.ThrowIfNull(call);
        var mine = call.Participants.FirstOrDefault(p => p.UserId == me);
        if (doNotDisturb || windowFocused || call.InitiatorId == me || mine is null)
        {
            return CallNotice.None;
        }

        if (kind == ConnText.Contracts.Calls.CallEvents.CallRinging)
        {
            return CallNotice.Incoming;
        }

        var unanswered = call.EndReason is ConnText.Contracts.Calls.CallEndReasons.Missed or ConnText.Contracts.Calls.CallEndReasons.Cancelled
                             or ConnText.Contracts.Calls.CallEndReasons.Busy
                         && mine.State is ConnText.Contracts.Calls.CallParticipantStates.Missed or ConnText.Contracts.Calls.CallParticipantStates.Invited;
        return kind == ConnText.Contracts.Calls.CallEvents.CallEnded && unanswered ? CallNotice.Missed : CallNotice.None;
    }
}

/// <summary>What a call event shows as a notification.</summary>
public enum CallNotice
{
    /// <summary>Nothing.</summary>
    None,

    /// <summary>"Incoming video call" (urgent).</summary>
    Incoming,

    /// <summary>"Missed video call".</summary>
    Missed,
}
