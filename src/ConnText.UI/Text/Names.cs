using ConnText.Contracts.Conversations;

namespace ConnText.UI.Text;

/// <summary>How people and conversations are named on screen.</summary>
public static class Names
{
    /// <summary>A group's title, or for a direct conversation the other person's name.</summary>
    public static string Conversation(ConversationResponse conversation, Guid me)
    {
        if (!string.IsNullOrWhiteSpace(conversation.Title))
        {
            return conversation.Title;
        }

        var others = conversation.Members.Where(m => m.UserId != me).Select(m => m.DisplayName).ToList();
        return others.Count == 0 ? "Just you" : string.Join(", ", others);
    }

    /// <summary>A member's display name, or "Someone" for a user no longer in the conversation.</summary>
    public static string Member(ConversationResponse conversation, Guid? userId) =>
        conversation.Members.FirstOrDefault(m => m.UserId == userId)?.DisplayName ?? "Someone";

    /// <summary>One line for a message in the conversation list.</summary>
    public static string Preview(ConversationResponse conversation, MessageResponse? message, Guid me)
    {
        if (message is null)
        {
            return "No messages yet";
        }

        if (message.DeletedAt is not null)
        {
            return "Message deleted";
        }

        if (message.Kind == MessageKinds.System)
        {
            return SystemText(conversation, message);
        }

        var who = message.SenderId == me ? "You" : Member(conversation, message.SenderId);
        var text = MarkdownRenderer.ToPlainText(message.Text);
        if (message.Attachments is { Count: > 0 })
        {
            // A file without words still says what it is.
            var files = (message.Attachments.Count == 1 ? "File: " : "Files: ") + string.Join(", ", message.Attachments.Select(a => a.Name));
            text = text.Length == 0 ? files : $"{text} {files}";
        }

        return $"{who}: {text}";
    }

    /// <summary>One or two initials of a name, for an avatar without a picture.</summary>
    public static string Initials(string? name)
    {
        var words = (name ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length switch
        {
            0 => "?",
            1 => words[0][..1].ToUpperInvariant(),
            _ => (words[0][..1] + words[^1][..1]).ToUpperInvariant(),
        };
    }

    /// <summary>The sentence for a system message.</summary>
    public static string SystemText(ConversationResponse conversation, MessageResponse message) => message.SystemEvent switch
    {
        ConversationEventKinds.MemberJoined => $"{Member(conversation, message.SubjectUserId)} joined",
        ConversationEventKinds.MemberLeft => $"{Member(conversation, message.SubjectUserId)} left",
        _ => message.SystemEvent ?? "",
    };
}
