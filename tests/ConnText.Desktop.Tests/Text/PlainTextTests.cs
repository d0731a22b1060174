using ConnText.Contracts.Calls;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Files;
using ConnText.UI.Text;

namespace ConnText.Desktop.Tests.Text;

public sealed class PlainTextTests
{
    [Theory]
    [InlineData("**bold** and *it* and _it_ and ~~gone~~", "bold and it and it and gone")]
    [InlineData("see [the **docs**](https://example.org/x) now", "see the docs now")]
    [InlineData("`**not bold**` here", "**not bold** here")]
    [InlineData("```cs\nvar x = 1;\n```\nafter", "var x = 1; after")]
    [InlineData("line one\n\nline two", "line one line two")]
    [InlineData("2*3*4 and snake_case_name", "2*3*4 and snake_case_name")]
    [InlineData("<b>not html</b>", "<b>not html</b>")]
    public void ToPlainText_DropsTheMarkupKeepsTheWords(string text, string plain) =>
        Assert.Equal(plain, MarkdownRenderer.ToPlainText(text));

    [Fact]
    public void Preview_MarkdownAndAttachments_IsOnePlainLine()
    {
        var me = Guid.NewGuid();
        var bob = Guid.NewGuid();
        var conversation = new ConversationResponse(Guid.NewGuid(), ConversationKinds.Direct, null, null, DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch, 1, [new ConversationMemberResponse(bob, "bob", "Bob", MemberRoles.Member, DateTimeOffset.UnixEpoch, 0)],
            null, 0, 0, false, MemberRoles.Member);
        var file = new FileResponse(Guid.NewGuid(), "plan.pdf", 10, "application/pdf", "00", bob, DateTimeOffset.UnixEpoch, null, null);
        var message = new MessageResponse(Guid.NewGuid(), conversation.Id, 1, MessageKinds.Text, bob, null, "**Ship** it", null, null, null,
            DateTimeOffset.UnixEpoch, null, null, [], [], [file]);

        Assert.Equal("Bob: Ship it File: plan.pdf", Names.Preview(conversation, message, me));
        Assert.Equal("Bob: File: plan.pdf", Names.Preview(conversation, message with { Text = null }, me));
    }

    [Theory]
    [InlineData("video", "completed", 151, "Video call · 2:31")]
    [InlineData("audio", "completed", 3725, "Audio call · 62:05")]
    [InlineData("audio", "missed", 0, "Missed audio call")]
    [InlineData("video", "busy", 0, "Missed video call (busy)")]
    [InlineData("video", "declined", 0, "Video call declined")]
    [InlineData("audio", "cancelled", 0, "Cancelled audio call")]
    [InlineData("video", "failed", 40, "Video call ended: a connection was lost")]
    public void Preview_CallEnded_SaysWhatHappened(string media, string reason, long seconds, string expected)
    {
        var conversation = new ConversationResponse(Guid.NewGuid(), ConversationKinds.Direct, null, null, DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch, 1, [], null, 0, 0, false, MemberRoles.Member);
        var message = new MessageResponse(Guid.NewGuid(), conversation.Id, 5, MessageKinds.System, Guid.NewGuid(), null, null, null,
            ConversationEventKinds.CallEnded, null, DateTimeOffset.UnixEpoch, null, null, [], [], [], new CallSummaryResponse(Guid.NewGuid(), media, reason, seconds));

        Assert.Equal(expected, Names.Preview(conversation, message, Guid.NewGuid()));
    }
}
