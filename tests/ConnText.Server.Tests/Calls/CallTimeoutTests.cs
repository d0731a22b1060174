using ConnText.Contracts.Calls;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;

namespace ConnText.Server.Tests.Calls;

/// <summary>The sweeper: ring timeout (missed) and the disconnect grace period, with short settings.</summary>
public abstract class CallTimeoutTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient aliceApi = null!;
    private HttpClient bobApi = null!;
    private CallDevice alice = null!;
    private CallDevice bob = null!;
    private Guid direct;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Calls:RingTimeout"] = "00:00:02",
            ["ConnText:Calls:DisconnectGrace"] = "00:00:01",
            ["ConnText:Calls:SweepInterval"] = "00:00:00.2",
        });
        aliceApi = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bobApi = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        direct = (await aliceApi.CreateDirectAsync(await bobApi.MyIdAsync())).Conversation.Id;
        alice = await CallDevice.ConnectAsync(server, aliceApi);
        bob = await CallDevice.ConnectAsync(server, bobApi);
    }

    public async Task DisposeAsync()
    {
        await alice.DisposeAsync();
        await bob.DisposeAsync();
        aliceApi.Dispose();
        bobApi.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task UnansweredCall_AfterRingTimeout_EndsMissed_WithSystemMessage()
    {
        var call = await alice.StartAsync(direct);
        await bob.WaitForAsync(CallEvents.CallRinging, call.Id);

        var ended = await bob.WaitForAsync(CallEvents.CallEnded, call.Id);
        Assert.Equal(CallEndReasons.Missed, ended.Call.EndReason);
        Assert.True(ended.Call.EndedAt >= call.RingDeadline, $"ended {ended.Call.EndedAt:O} before the deadline {call.RingDeadline:O}");
        Assert.Equal(CallParticipantStates.Missed, ended.Call.Participants.Single(p => p.UserId != call.InitiatorId).State);
        await alice.WaitForAsync(CallEvents.CallEnded, call.Id);
        var message = (await bobApi.EventsAsync(direct, after: 0)).Items.Single().Message!;
        Assert.Equal(new CallSummaryResponse(call.Id, CallMedia.Audio, CallEndReasons.Missed, 0), message.Call);
    }

    [Fact]
    public async Task AnsweredCall_OutlivesTheRingTimeout()
    {
        var call = await alice.StartAsync(direct);
        await bob.InvokeAsync("AcceptCall", call.Id);
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        Assert.False(alice.HasReceived(CallEvents.CallEnded, call.Id));
        Assert.Equal(CallStates.Active, (await bob.InvokeAsync("AcceptCall", call.Id)).State);
    }

    [Fact]
    public async Task DeviceDisconnectedMidCall_IsDroppedAfterGrace_CallEndsFailed()
    {
        var call = await alice.StartAsync(direct);
        await bob.InvokeAsync("AcceptCall", call.Id);

        await bob.Hub.StopAsync();
        var ended = await alice.WaitForAsync(CallEvents.CallEnded, call.Id);
        Assert.Equal(CallEndReasons.Failed, ended.Call.EndReason);
        Assert.Equal(CallEndReasons.Failed, (await aliceApi.EventsAsync(direct, after: 0)).Items.Single().Message!.Call!.EndReason);
    }
}

public sealed class SqliteCallTimeoutTests() : CallTimeoutTests(Provider.Sqlite);

public sealed class PostgresCallTimeoutTests() : CallTimeoutTests(Provider.Postgres);
