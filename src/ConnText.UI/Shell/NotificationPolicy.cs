using ConnText.Contracts.Conversations;

namespace ConnText.UI.Shell;

/// <summary>When a new message raises a notification.</summary>
public static class NotificationPolicy
{
    /// <summary>
    /// Whether a message deserves a notification, and whether it mentions the user: not the user's own, not a
    /// conversation a focused window shows, and in a muted conversation only a mention.
    /// </summary>
    public static (bool Notify, bool Mention) Decide(
        ConversationResponse? conversation, Guid accountId, Guid me, MessageResponse message, WindowActivity activity)
    {
        if (conversation is null || message.SenderId == me || message.DeletedAt is not null || message.Kind != MessageKinds.Text)
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
