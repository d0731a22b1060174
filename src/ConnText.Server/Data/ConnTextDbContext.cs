using ConnText.Server.AccessTokens;
using ConnText.Server.Calls;
using ConnText.Server.Accounts;
using ConnText.Server.Conversations;
using ConnText.Server.Files;
using ConnText.Server.Messages;
using ConnText.Server.Sessions;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Data;

/// <summary>
/// The server's unit of work. Each provider has a derived context that owns its migrations
/// (<c>Data/Sqlite</c>, <c>Data/Postgres</c>), because EF Core migrations are provider-specific
/// (docs/adr/0002). Features register their entity configurations in this assembly.
/// </summary>
internal abstract class ConnTextDbContext(DbContextOptions options)
    : IdentityDbContext<User, Role, Guid>(options)
{
    public DbSet<Session> Sessions => Set<Session>();

    public DbSet<PersonalAccessToken> PersonalAccessTokens => Set<PersonalAccessToken>();

    public DbSet<Invite> Invites => Set<Invite>();

    public DbSet<Conversation> Conversations => Set<Conversation>();

    public DbSet<ConversationMember> ConversationMembers => Set<ConversationMember>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<MessageReaction> MessageReactions => Set<MessageReaction>();

    public DbSet<ConversationEvent> ConversationEvents => Set<ConversationEvent>();

    public DbSet<MessageMention> MessageMentions => Set<MessageMention>();

    public DbSet<StoredFile> Files => Set<StoredFile>();

    public DbSet<FileUpload> FileUploads => Set<FileUpload>();

    public DbSet<MessageAttachment> MessageAttachments => Set<MessageAttachment>();

    public DbSet<Call> Calls => Set<Call>();

    public DbSet<CallParticipant> CallParticipants => Set<CallParticipant>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict<Guid>();
        builder.ApplyConfigurationsFromAssembly(typeof(ConnTextDbContext).Assembly);
    }
}
