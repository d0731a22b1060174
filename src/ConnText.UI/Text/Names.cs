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

    /// <summary>"Online", "Away", "Last seen 14:02" or "Offline".</summary>
    public static string Presence(ConnText.Contracts.Realtime.PresenceChangedEvent? presence) => presence switch
    {
        { State: "online" } => "Online",
        { State: "away" } => "Away",
        { LastSeenAt: { } seen } => "Last seen " + seen.ToLocalTime().ToString("d MMM HH:mm", System.Globalization.CultureInfo.InvariantCulture),
        _ => "Offline",
    };

    /// <summary>"Alice is typing…", "Alice and Bob are typing…", "3 people are typing…".</summary>
    public static string Typing(ConversationResponse conversation, IReadOnlyList<Guid> userIds) => userIds.Count switch
    {
        0 => "",
        1 => $"{Member(conversation, userIds[0])} is typing…",
        2 => $"{Member(conversation, userIds[0])} and {Member(conversation, userIds[1])} are typing…",
        _ => $"{userIds.Count} people are typing…",
    };

    /// <summary>"Seen" in a direct conversation; "Seen by Alice, Bob" in a group; empty when nobody has.</summary>
    public static string SeenBy(ConversationResponse conversation, MessageResponse message, Guid me)
    {
        var readers = conversation.Members.Where(m => m.UserId != me && m.LastReadSequence >= message.Sequence).Select(m => m.DisplayName).ToList();
        if (readers.Count == 0)
        {
            return "";
        }

        return conversation.Kind is ConversationKinds.Direct or ConversationKinds.PeerToPeer ? "Seen" : "Seen by " + string.Join(", ", readers);
    }

    /// <summary>The sentence for a system message.</summary>
    public static string SystemText(ConversationResponse conversation, MessageResponse message) => message.SystemEvent switch
    {
        ConversationEventKinds.MemberJoined => $"{Member(conversation, message.SubjectUserId)} joined",
        ConversationEventKinds.MemberLeft => $"{Member(conversation, message.SubjectUserId)} left",
        ConversationEventKinds.CallEnded when message.Call is { } call => CallText(call),
        ConversationEventKinds.CallEnded => "Call ended",
        _ => message.SystemEvent ?? "",
    };

    /// <summary>"Video call · 2:31", "Missed audio call", … for a <c>call.ended</c> system message.</summary>
    public static string CallText(ConnText.Contracts.Calls.CallSummaryResponse call)
    {
        var media = call.Media == ConnText.Contracts.Calls.CallMedia.Video ? "video call" : "audio call";
        var capitalized = char.ToUpperInvariant(media[0]) + media[1..];
        var duration = TimeSpan.FromSeconds(call.DurationSeconds);
        return call.EndReason switch
        {
            ConnText.Contracts.Calls.CallEndReasons.Completed => $"{capitalized} · {(int)duration.TotalMinutes}:{duration.Seconds:00}",
            ConnText.Contracts.Calls.CallEndReasons.Missed => $"Missed {media}",
            ConnText.Contracts.Calls.CallEndReasons.Busy => $"Missed {media} (busy)",
            ConnText.Contracts.Calls.CallEndReasons.Declined => $"{capitalized} declined",
            ConnText.Contracts.Calls.CallEndReasons.Cancelled => $"Cancelled {media}",
            ConnText.Contracts.Calls.CallEndReasons.Failed => $"{capitalized} ended: a connection was lost",
            _ => $"{capitalized} ended",
        };
    }
}
