using System.Text.RegularExpressions;
using ConnText.Server.Accounts;
using ConnText.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Messages;

/// <summary>A member mentioned by <c>@username</c> in a message.</summary>
internal sealed class MessageMention
{
    public Guid MessageId { get; set; }

    public Guid UserId { get; set; }
}

internal sealed class MessageMentionConfiguration : IEntityTypeConfiguration<MessageMention>
{
    public void Configure(EntityTypeBuilder<MessageMention> builder)
    {
        builder.ToTable("message_mentions");
        builder.HasKey(m => new { m.MessageId, m.UserId });
        builder.HasOne<Message>().WithMany().HasForeignKey(m => m.MessageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(m => m.UserId);
    }
}

/// <summary>Resolves <c>@username</c> in a text to the ids of the conversation's members (others are plain text).</summary>
internal static partial class Mentions
{
    /// <summary>More distinct names than this in one message are not looked up (a message cannot ping a crowd by brute force).</summary>
    public const int MaxPerMessage = 50;

    // Usernames follow AccountRules: letters, digits, '.', '_', '-'; the '@' must not follow a word character (e-mail addresses).
    [GeneratedRegex(@"(?<![A-Za-z0-9._-])@([A-Za-z0-9][A-Za-z0-9._-]{0,31})", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex MentionPattern();

    /// <summary>Whether the text has anything that reads as <c>@username</c> (false: it mentions nobody, no look-up needed).</summary>
    public static bool MayMention(string text) => MentionPattern().IsMatch(text);

    private static async Task<List<Guid>> ResolveAsync(ConnTextDbContext db, Guid conversationId, string text, CancellationToken cancellationToken)
    {
        var names = MentionPattern().Matches(text)
            .Select(m => m.Groups[1].Value.TrimEnd('.', '-', '_').ToUpperInvariant())
            .Where(n => n.Length >= AccountRules.UsernameMinLength)
            .Distinct(StringComparer.Ordinal)
            .Take(MaxPerMessage)
            .ToList();
        if (names.Count == 0)
        {
            return [];
        }

        return await db.ConversationMembers
            .Where(m => m.ConversationId == conversationId && names.Contains(m.User!.NormalizedUserName!))
            .Select(m => m.UserId)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Replaces the stored mentions of a message (inside the caller's transaction).</summary>
    public static async Task SetAsync(ConnTextDbContext db, Message message, string? text, CancellationToken cancellationToken)
    {
        await db.MessageMentions.Where(m => m.MessageId == message.Id).ExecuteDeleteAsync(cancellationToken);
        message.HasMentions = false;
        if (text is not null)
        {
            await AddAsync(db, message, text, cancellationToken);
        }
    }

    /// <summary>Stores the mentions of a message that has none yet, and its <see cref="Message.HasMentions"/> flag.</summary>
    public static async Task AddAsync(ConnTextDbContext db, Message message, string text, CancellationToken cancellationToken)
    {
        foreach (var userId in await ResolveAsync(db, message.ConversationId, text, cancellationToken))
        {
            db.MessageMentions.Add(new MessageMention { MessageId = message.Id, UserId = userId });
            message.HasMentions = true;
        }
    }
}
