using ConnText.Contracts.Conversations;
using ConnText.Contracts.Files;
using ConnText.UI.Shell;

namespace ConnText.Desktop.Tests.Notifications;

/// <summary>When a message raises a notification: not the user's own, not what they are looking at, muted only for mentions.</summary>
public sealed class NotificationDecisionTests
{
    private static readonly Guid Account = Guid.NewGuid();
    private static readonly Guid Me = Guid.NewGuid();
    private static readonly Guid Bob = Guid.NewGuid();
    private static readonly Guid ConversationId = Guid.NewGuid();

    [Fact]
    public void Decide_MessageFromSomeoneElse_NoWindow_Notifies()
    {
        Assert.Equal((true, false), NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob), new WindowActivity()));
    }

    [Fact]
    public void Decide_OwnMessageFromAnotherDevice_DoesNotNotify()
    {
        Assert.False(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Me), new WindowActivity()).Notify);
    }

    [Fact]
    public void Decide_FocusedWindowShowsTheConversation_DoesNotNotify()
    {
        var activity = new WindowActivity();
        activity.Report("window", focused: true, Account, ConversationId);
        Assert.False(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob), activity).Notify);
    }

    [Theory]
    [InlineData(false, true)] // the window shows it but is in the background
    [InlineData(true, false)] // the window is focused on another conversation
    public void Decide_ConversationNotInView_Notifies(bool focused, bool sameConversation)
    {
        var activity = new WindowActivity();
        activity.Report("window", focused, Account, sameConversation ? ConversationId : Guid.NewGuid());
        Assert.True(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob), activity).Notify);
    }

    [Fact]
    public void Decide_SameConversationIdInAnotherAccount_StillNotifies()
    {
        var activity = new WindowActivity();
        activity.Report("window", focused: true, Guid.NewGuid(), ConversationId);
        Assert.True(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob), activity).Notify);
    }

    [Fact]
    public void Decide_Muted_OnlyMentionsNotify()
    {
        var muted = Conversation() with { Muted = true };
        Assert.False(NotificationPolicy.Decide(muted, Account, Me, Message(Bob), new WindowActivity()).Notify);
        Assert.Equal((true, true), NotificationPolicy.Decide(muted, Account, Me, Message(Bob, mentions: [Me]), new WindowActivity()));
    }

    [Fact]
    public void Decide_DoNotDisturb_NothingNotifiesNotEvenAMention()
    {
        Assert.False(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob, mentions: [Me]), new WindowActivity(), doNotDisturb: true).Notify);
    }

    [Fact]
    public void Decide_DeletedOrSystemOrUnknownConversation_DoesNotNotify()
    {
        var activity = new WindowActivity();
        Assert.False(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob) with { DeletedAt = DateTimeOffset.UtcNow }, activity).Notify);
        Assert.False(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob) with { Kind = MessageKinds.System }, activity).Notify);
        Assert.False(NotificationPolicy.Decide(null, Account, Me, Message(Bob), activity).Notify);
    }

    [Fact]
    public void WindowGoesAway_ItsReportNoLongerCounts()
    {
        var activity = new WindowActivity();
        activity.Report("window", focused: true, Account, ConversationId);
        activity.Remove("window");
        Assert.False(activity.HasWindow);
        Assert.True(NotificationPolicy.Decide(Conversation(), Account, Me, Message(Bob), activity).Notify);
    }

    private static ConversationResponse Conversation() => new(
        ConversationId, ConversationKinds.Direct, null, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1,
        [
            new ConversationMemberResponse(Me, "me", "Me", "member", DateTimeOffset.UtcNow, 0),
            new ConversationMemberResponse(Bob, "bob", "Bob", "member", DateTimeOffset.UtcNow, 0),
        ],
        null, 0, 0, false, "member");

    private static MessageResponse Message(Guid sender, IReadOnlyList<Guid>? mentions = null) => new(
        Guid.NewGuid(), ConversationId, 2, MessageKinds.Text, sender, Guid.NewGuid(), "hi", null, null, null,
        DateTimeOffset.UtcNow, null, null, [], mentions ?? [], Array.Empty<FileResponse>());

    [Theory]
    [InlineData("CallRinging", null, "invited", false, false, CallNotice.Incoming)]
    [InlineData("CallRinging", null, "invited", true, false, CallNotice.None)] // the ringing card shows in the focused window
    [InlineData("CallRinging", null, "invited", false, true, CallNotice.None)] // do not disturb
    [InlineData("CallEnded", "missed", "missed", false, false, CallNotice.Missed)]
    [InlineData("CallEnded", "cancelled", "missed", false, false, CallNotice.Missed)]
    [InlineData("CallEnded", "busy", "missed", false, false, CallNotice.Missed)]
    [InlineData("CallEnded", "declined", "declined", false, false, CallNotice.None)] // declined here or elsewhere: not missed
    [InlineData("CallEnded", "completed", "left", false, false, CallNotice.None)]
    [InlineData("CallEnded", "missed", "missed", true, false, CallNotice.None)] // the window shows the outcome
    [InlineData("CallAccepted", null, "joined", false, false, CallNotice.None)]
    public void DecideCall_IncomingAndMissed_OnlyWhenNoWindowHasAttention(string kind, string? reason, string myState, bool focused, bool doNotDisturb, CallNotice expected)
    {
        var call = Call(Bob, reason, myState);
        Assert.Equal(expected, NotificationPolicy.DecideCall(kind, call, Me, focused, doNotDisturb));
    }

    [Fact]
    public void DecideCall_OwnCall_NeverNotifies()
    {
        Assert.Equal(CallNotice.None, NotificationPolicy.DecideCall("CallEnded", Call(Me, "missed", "missed"), Me, false));
        Assert.Equal(CallNotice.None, NotificationPolicy.DecideCall("CallRinging", Call(Me, null, "joined"), Me, false));
    }

    private static ConnText.Contracts.Calls.CallResponse Call(Guid initiator, string? reason, string myState) =>
        new(Guid.NewGuid(), ConversationId, "video", initiator, reason is null ? "ringing" : "ended", reason, DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch.AddSeconds(45), null, null, null,
            [new(Me, myState, null, null, null), new(Bob, "joined", "s-bob", DateTimeOffset.UnixEpoch, null)]);
}
