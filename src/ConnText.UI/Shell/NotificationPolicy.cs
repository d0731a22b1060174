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
}
