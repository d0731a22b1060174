using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Tests.Files;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ConnText.Server.Tests.Data;

/// <summary>
/// An installation upgraded to the migration that added the per-message flags (HasReactions, HasMentions,
/// HasAttachments) already has messages with reactions, mentions and files. The migration must set their flags, or
/// history pages would stop showing them.
/// </summary>
public abstract class MessageFlagsMigrationTests(Provider provider) : IAsyncLifetime
{
    private const string MigrationBefore = "ConversationAvatar"; // by name: the two providers' migration ids differ

    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task UpgradedDatabase_MessagesKeepTheirReactionsMentionsAndFiles()
    {
        var bobId = await bob.MyIdAsync();
        var group = await alice.CreateGroupAsync("upgrade", bobId);
        var plain = await alice.SendAsync(group.Id, "plain");
        var mentioning = await alice.SendAsync(group.Id, "@bob see this");
        var reacted = await alice.SendAsync(group.Id, "react here");
        await bob.PutAsync(MessagingClient.Reaction(group.Id, reacted.Id, "👍"), null).OkMessageAsync();
        var file = await alice.UploadFileAsync("notes"u8.ToArray(), "notes.txt");
        using (var sent = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                   new SendMessageRequest(Guid.NewGuid(), "with a file", AttachmentIds: [file.Id])))
        {
            sent.EnsureSuccessStatusCode();
        }

        // Back to the schema before the flags (the columns go), then up again as an upgrade runs it.
        using (var scope = server.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync(MigrationBefore);
            Assert.DoesNotContain("HasReactions", await ColumnsAsync(db));
            await migrator.MigrateAsync();
            Assert.Contains("HasReactions", await ColumnsAsync(db));

            var flags = await db.Messages.AsNoTracking().Where(m => m.ConversationId == group.Id && m.Kind == "text")
                .ToDictionaryAsync(m => m.Id, m => (m.HasReactions, m.HasMentions, m.HasAttachments));
            Assert.Equal((false, false, false), flags[plain.Id]);
            Assert.Equal((false, true, false), flags[mentioning.Id]);
            Assert.Equal((true, false, false), flags[reacted.Id]);
            Assert.Equal((false, false, true), Assert.Single(flags, f => f.Key != plain.Id && f.Key != mentioning.Id && f.Key != reacted.Id).Value);

            if (db.Database.GetDbConnection() is NpgsqlConnection connection)
            {
                // Pooled connections hold statements prepared against the old columns.
                NpgsqlConnection.ClearPool(connection);
            }
        }

        var page = (await bob.HistoryAsync(group.Id, "after=0")).Items.Where(m => m.Kind == MessageKinds.Text).ToList();
        Assert.Equal(["plain", "@bob see this", "react here", "with a file"], page.Select(m => m.Text));
        Assert.Equal([bobId], page[1].Mentions);
        Assert.Equal([new ReactionCountResponse("👍", 1, true)], page[2].Reactions);
        Assert.Equal([file.Id], page[3].Attachments.Select(a => a.Id));
        Assert.True(page[0].Reactions.Count == 0 && page[0].Mentions.Count == 0 && page[0].Attachments.Count == 0);
    }

    private static async Task<List<string>> ColumnsAsync(ConnTextDbContext db)
    {
        var sql = db.Database.IsNpgsql()
            ? "SELECT column_name AS \"Value\" FROM information_schema.columns WHERE table_name = 'messages'"
            : "SELECT name AS \"Value\" FROM pragma_table_info('messages')";
        return await db.Database.SqlQueryRaw<string>(sql).ToListAsync();
    }
}

public sealed class SqliteMessageFlagsMigrationTests() : MessageFlagsMigrationTests(Provider.Sqlite);

public sealed class PostgresMessageFlagsMigrationTests() : MessageFlagsMigrationTests(Provider.Postgres);
