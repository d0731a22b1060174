using ConnText.Client.Store;
using ConnText.Contracts.Conversations;
using Microsoft.Data.Sqlite;

namespace ConnText.Desktop.Tests.Client;

/// <summary>The local full-text search and settings of <see cref="LocalStore"/>, on a real SQLite file.</summary>
public sealed class LocalStoreSearchTests : IDisposable
{
    private static readonly Guid Me = Guid.NewGuid();
    private static readonly Guid Other = Guid.NewGuid();
    private readonly string directory = Directory.CreateTempSubdirectory("conntext-store-").FullName;
    private readonly Guid conversation = Guid.NewGuid();
    private LocalStore store;

    public LocalStoreSearchTests()
    {
        store = new LocalStore(StorePath, Me);
        store.UpsertConversation(Conversation(conversation), 0);
    }

    private string StorePath => Path.Combine(directory, "store.db");

    public void Dispose()
    {
        store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Search_StoredMessages_FindsEveryWordWithTheLastAsPrefixBestFirst()
    {
        var release = Message(1, "The release notes are in docs");
        store.UpsertMessage(release);
        store.UpsertMessage(Message(2, "Lunch at noon?"));
        store.UpsertMessage(Message(3, "Notes about the Release, release and releases"));

        Assert.Equal(new[] { release.Id }, store.Search("release docs", 10).Select(h => h.Message.Id));
        Assert.Equal(2, store.Search("relea", 10).Count);
        Assert.Empty(store.Search("dinner", 10));

        var hit = store.Search("lunch", 10).Single();
        Assert.Equal($"{LocalStore.MatchStart}Lunch{LocalStore.MatchEnd} at noon?", hit.Snippet);
    }

    [Fact]
    public void Search_AfterEditDeleteAndLeaving_FollowsTheStore()
    {
        var message = Message(1, "meet at the station");
        store.UpsertMessage(message);
        Assert.Single(store.Search("station", 10));

        store.UpsertMessage(message with { Text = "meet at the airport", EditedAt = DateTimeOffset.UnixEpoch });
        Assert.Empty(store.Search("station", 10));
        Assert.Single(store.Search("airport", 10));

        store.UpsertMessage(message with { Text = null, DeletedAt = DateTimeOffset.UnixEpoch });
        Assert.Empty(store.Search("airport", 10));

        store.UpsertMessage(Message(2, "another airport trip"));
        store.RemoveConversation(conversation);
        Assert.Empty(store.Search("airport", 10));
        Assert.Null(store.Conversation(conversation));
    }

    [Theory]
    [InlineData("\"unbalanced")]
    [InlineData("NEAR(a b)")]
    [InlineData("a OR b AND NOT c")]
    [InlineData("col:value")]
    [InlineData("*")]
    [InlineData("-x ^y")]
    public void Search_QueryWithFts5Syntax_IsSearchedAsWordsAndNeverFails(string query)
    {
        store.UpsertMessage(Message(1, "a b c x y value col"));

        var exception = Record.Exception(() => store.Search(query, 10));

        Assert.Null(exception);
    }

    [Fact]
    public void Search_OperatorWords_AreMatchedAsText()
    {
        store.UpsertMessage(Message(1, "rock OR roll"));
        store.UpsertMessage(Message(2, "rock music"));

        Assert.Single(store.Search("rock OR", 10));
        Assert.Equal("\"rock\" \"OR\"*", LocalStore.MatchExpression("rock OR"));
        Assert.Null(LocalStore.MatchExpression("  -- ** "));
    }

    [Fact]
    public void Search_InConversation_OnlyThatConversation()
    {
        var elsewhere = Guid.NewGuid();
        store.UpsertConversation(Conversation(elsewhere), 0);
        store.UpsertMessage(Message(1, "budget review"));
        store.UpsertMessage(Message(1, "budget draft") with { Id = Guid.NewGuid(), ConversationId = elsewhere });

        Assert.Equal(2, store.Search("budget", 10).Count);
        Assert.Equal(elsewhere, store.Search("budget", 10, elsewhere).Single().Message.ConversationId);
    }

    [Fact]
    public void Open_StoreWrittenBeforeSearchExisted_IndexesItsMessages()
    {
        store.UpsertMessage(Message(1, "written by an older version"));
        store.Dispose();
        using (var connection = new SqliteConnection($"Data Source={StorePath};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = """
                DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_update; DROP TRIGGER messages_fts_delete;
                DROP TABLE messages_fts;
                """;
            drop.ExecuteNonQuery();
        }

        store = new LocalStore(StorePath, Me);

        Assert.Single(store.Search("older", 10));
    }

    [Fact]
    public void Setting_SetAndReopen_IsKept()
    {
        Assert.Null(store.Setting("notifications.doNotDisturb"));
        store.SetSetting("notifications.doNotDisturb", "true");
        store.SetSetting("notifications.doNotDisturb", "false");
        store.Dispose();
        store = new LocalStore(StorePath, Me);

        Assert.Equal("false", store.Setting("notifications.doNotDisturb"));
    }

    [Fact]
    public void CountFrom_Sequence_CountsThatMessageAndNewer()
    {
        for (var i = 1; i <= 5; i++)
        {
            store.UpsertMessage(Message(i, $"message {i}"));
        }

        Assert.Equal(3, store.CountFrom(conversation, 3));
    }

    private MessageResponse Message(long sequence, string? text) => new(
        Guid.NewGuid(), conversation, sequence, MessageKinds.Text, Other, Guid.NewGuid(), text, null, null, null,
        DateTimeOffset.UnixEpoch.AddMinutes(sequence), null, null, [], [], []);

    private static ConversationResponse Conversation(Guid id) => new(
        id, ConversationKinds.Direct, null, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0,
        [new ConversationMemberResponse(Me, "me", "Me", MemberRoles.Member, DateTimeOffset.UnixEpoch, 0),
         new ConversationMemberResponse(Other, "other", "Other", MemberRoles.Member, DateTimeOffset.UnixEpoch, 0)],
        null, 0, 0, false, MemberRoles.Member);
}
