using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Server.Tests.Calls;

/// <summary>The call lifecycle over the real hub, with real clients, against each database provider.</summary>
public abstract class CallTests(Provider provider) : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> owned = [];
    private ServerInstance server = null!;

    public async Task InitializeAsync() =>
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Calls:RingTimeout"] = "00:02:00",
            ["ConnText:Calls:MeshLimit"] = "3",
            ["ConnText:Calls:SignalsPerSecond"] = "20",
            ["ConnText:Calls:SignalBurst"] = "40",
        });

    public async Task DisposeAsync()
    {
        foreach (var item in owned)
        {
            await item.DisposeAsync();
        }

        await server.DisposeAsync();
    }

    [Fact]
    public async Task AcceptCall_RingsEveryCalleeDevice_FirstAcceptWins_OtherDeviceAnsweredElsewhere()
    {
        var (alice, bob1, bob2, direct) = await AliceAndBobWithTwoDevicesAsync();

        var started = await alice.StartAsync(direct, CallMedia.Video);
        Assert.Equal((CallStates.Ringing, CallMedia.Video), (started.State, started.Media));
        Assert.Equal(alice.DeviceId, started.Participants.Single(p => p.State == CallParticipantStates.Joined).DeviceId);
        var ringing1 = await bob1.WaitForAsync(CallEvents.CallRinging, started.Id);
        await bob2.WaitForAsync(CallEvents.CallRinging, started.Id);
        Assert.Equal(alice.DeviceId, ringing1.DeviceId);

        var accepted = await bob1.InvokeAsync("AcceptCall", started.Id);
        Assert.Equal(CallStates.Active, accepted.State);
        Assert.NotNull(accepted.AnsweredAt);
        var told = await alice.WaitForAsync(CallEvents.CallAccepted, started.Id);
        Assert.Equal(bob1.DeviceId, told.DeviceId);
        var elsewhere = await bob2.WaitForAsync(CallEvents.CallAnsweredElsewhere, started.Id);
        Assert.Equal(bob1.DeviceId, elsewhere.DeviceId);

        var late = await Assert.ThrowsAsync<HubException>(() => bob2.InvokeAsync("AcceptCall", started.Id));
        CallDevice.AssertRefused(late, ProblemTypes.Conflict);
        Assert.False(bob1.HasReceived(CallEvents.CallAnsweredElsewhere, started.Id));
        // A retry from the device that answered is harmless.
        Assert.Equal(CallStates.Active, (await bob1.InvokeAsync("AcceptCall", started.Id)).State);
    }

    [Fact]
    public async Task HangUp_ActiveCall_EndsCompleted_WithCallEndedSystemMessageAndHistory()
    {
        var (alice, bob1, bob2, direct) = await AliceAndBobWithTwoDevicesAsync();
        var call = await alice.StartAsync(direct);
        await bob1.InvokeAsync("AcceptCall", call.Id);

        var ended = await alice.InvokeAsync("HangUp", call.Id);
        Assert.Equal((CallStates.Ended, CallEndReasons.Completed), (ended.State, ended.EndReason));
        Assert.NotNull(ended.DurationSeconds);
        Assert.All(ended.Participants, p => Assert.Equal(CallParticipantStates.Left, p.State));
        Assert.Equal(CallEndReasons.Completed, (await bob1.WaitForAsync(CallEvents.CallEnded, call.Id)).Call.EndReason);
        await bob2.WaitForAsync(CallEvents.CallEnded, call.Id);

        var appended = await bob1.Appended.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait);
        Assert.Equal(ConversationEventKinds.CallEnded, appended.Kind);
        var events = await bob1.Api.EventsAsync(direct, after: 0);
        var system = Assert.Single(events.Items).Message!;
        Assert.Equal((MessageKinds.System, ConversationEventKinds.CallEnded), (system.Kind, system.SystemEvent));
        Assert.Equal(new CallSummaryResponse(call.Id, CallMedia.Audio, CallEndReasons.Completed, ended.DurationSeconds!.Value), system.Call);

        var history = (await alice.Api.GetFromJsonAsync<CallPageResponse>($"/api/v1/calls?conversationId={direct}"))!;
        Assert.Equal(call.Id, Assert.Single(history.Items).Id);
        Assert.Equal(CallEndReasons.Completed, history.Items[0].EndReason);

        // Ended is final.
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() => bob1.InvokeAsync("JoinCall", call.Id)), ProblemTypes.Conflict);
    }

    [Fact]
    public async Task DeclineCall_EndsDeclined_CallerAndCalleesOtherDeviceTold()
    {
        var (alice, bob1, bob2, direct) = await AliceAndBobWithTwoDevicesAsync();
        var call = await alice.StartAsync(direct);
        await bob1.WaitForAsync(CallEvents.CallRinging, call.Id);

        var declined = await bob2.InvokeAsync("DeclineCall", call.Id);
        Assert.Equal((CallStates.Ended, CallEndReasons.Declined), (declined.State, declined.EndReason));
        Assert.Equal(CallEndReasons.Declined, (await alice.WaitForAsync(CallEvents.CallEnded, call.Id)).Call.EndReason);
        await bob1.WaitForAsync(CallEvents.CallEnded, call.Id);
        Assert.Equal(0, (await alice.Api.EventsAsync(direct, after: 0)).Items.Single().Message!.Call!.DurationSeconds);
    }

    [Fact]
    public async Task HangUp_WhileRinging_ByCaller_EndsCancelled()
    {
        var (alice, bob1, _, direct) = await AliceAndBobWithTwoDevicesAsync();
        var call = await alice.StartAsync(direct);
        await bob1.WaitForAsync(CallEvents.CallRinging, call.Id);

        var cancelled = await alice.InvokeAsync("HangUp", call.Id);
        Assert.Equal(CallEndReasons.Cancelled, cancelled.EndReason);
        var told = await bob1.WaitForAsync(CallEvents.CallEnded, call.Id);
        Assert.Equal(CallParticipantStates.Missed, told.Call.Participants.Single(p => p.UserId != call.InitiatorId).State);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() => bob1.InvokeAsync("AcceptCall", call.Id)), ProblemTypes.Conflict);
    }

    [Fact]
    public async Task StartCall_CalleeInAnotherCall_EndsBusy_AndBusyUserCannotStartAnother()
    {
        var (alice, bob, _, aliceBob) = await AliceAndBobWithTwoDevicesAsync();
        var carolApi = await UserAsync("carol");
        var carol = await DeviceAsync(carolApi);
        var carolId = await carolApi.MyIdAsync();
        var (_, bobCarol) = await bob.Api.CreateDirectAsync(carolId);
        var (_, aliceCarol) = await alice.Api.CreateDirectAsync(carolId);

        var running = await bob.StartAsync(bobCarol.Id);
        await carol.InvokeAsync("AcceptCall", running.Id);

        var busy = await alice.StartAsync(aliceBob);
        Assert.Equal((CallStates.Ended, CallEndReasons.Busy), (busy.State, busy.EndReason));
        Assert.Equal(CallEndReasons.Busy, (await alice.WaitForAsync(CallEvents.CallEnded, busy.Id)).Call.EndReason);
        Assert.Equal(CallEndReasons.Busy, (await alice.Api.EventsAsync(aliceBob, after: 0)).Items.Single().Message!.Call!.EndReason);

        var refused = await Assert.ThrowsAsync<HubException>(() => carol.StartAsync(aliceCarol.Id));
        CallDevice.AssertRefused(refused, ProblemTypes.CallBusy);
        // The call in progress is untouched.
        Assert.Equal(CallStates.Active, (await bob.InvokeAsync("AcceptCall", running.Id)).State);
    }

    [Fact]
    public async Task AcceptCall_TwoDevicesAtOnce_ExactlyOneWins()
    {
        var (alice, bob1, bob2, direct) = await AliceAndBobWithTwoDevicesAsync();
        var call = await alice.StartAsync(direct);
        await bob1.WaitForAsync(CallEvents.CallRinging, call.Id);
        await bob2.WaitForAsync(CallEvents.CallRinging, call.Id);

        var attempts = await Task.WhenAll(Attempt(bob1), Attempt(bob2));
        var winners = attempts.Where(a => a.Call is not null).ToList();
        var winner = Assert.Single(winners);
        var loser = attempts.Single(a => a.Call is null);
        CallDevice.AssertRefused(loser.Error!, ProblemTypes.Conflict);
        var joined = winner.Call!.Participants.Single(p => p.UserId != call.InitiatorId);
        Assert.Equal(winner.Device.DeviceId, joined.DeviceId);
        Assert.Equal(winner.Device.DeviceId, (await alice.WaitForAsync(CallEvents.CallAccepted, call.Id)).DeviceId);

        async Task<(CallDevice Device, CallResponse? Call, HubException? Error)> Attempt(CallDevice device)
        {
            try
            {
                return (device, await device.InvokeAsync("AcceptCall", call.Id), null);
            }
            catch (HubException ex)
            {
                return (device, null, ex);
            }
        }
    }

    [Fact]
    public async Task StartCall_BothSidesAtOnce_OneActiveCall()
    {
        var (alice, bob, _, direct) = await AliceAndBobWithTwoDevicesAsync();

        var both = await Task.WhenAll(alice.StartAsync(direct), bob.StartAsync(direct));
        Assert.Equal(both[0].Id, both[1].Id);
        var call = both.Single(c => c.State == CallStates.Active); // the later start answered the earlier one
        Assert.All(call.Participants, p => Assert.Equal(CallParticipantStates.Joined, p.State));
        Assert.Equal(call.Participants.Select(p => p.DeviceId).Order(), new[] { alice.DeviceId, bob.DeviceId }.Order());
        var history = (await alice.Api.GetFromJsonAsync<CallPageResponse>($"/api/v1/calls?conversationId={direct}"))!;
        Assert.Single(history.Items);
    }

    [Fact]
    public async Task Signal_RelayedInOrder_BetweenTheDevicesInTheCall()
    {
        var (alice, bob1, bob2, direct) = await AliceAndBobWithTwoDevicesAsync();
        var call = await alice.StartAsync(direct, CallMedia.Video);
        await bob1.InvokeAsync("AcceptCall", call.Id);

        // Not awaited one by one: the hub still runs one connection's invocations in order (30: within the burst of 40).
        var sends = Enumerable.Range(0, 30).Select(i => alice.Hub.SendAsync("Signal", call.Id, bob1.DeviceId, $"{{\"candidate\":{i}}}")).ToList();
        await Task.WhenAll(sends);
        for (var i = 0; i < 30; i++)
        {
            var signal = await bob1.Signals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait);
            Assert.Equal((call.Id, call.InitiatorId, alice.DeviceId, $"{{\"candidate\":{i}}}"),
                (signal.CallId, signal.FromUserId, signal.FromDeviceId, signal.Payload));
        }

        await bob1.Hub.InvokeAsync("Signal", call.Id, alice.DeviceId, "answer-sdp");
        Assert.Equal("answer-sdp", (await alice.Signals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait)).Payload);
        Assert.False(bob2.Signals.Reader.TryRead(out _), "the callee's other device is not in the call");
    }

    [Fact]
    public async Task Signal_NonParticipantOrOversizedOrUnknownTarget_IsRefused_ConnectionStays()
    {
        var (alice, bob1, bob2, direct) = await AliceAndBobWithTwoDevicesAsync();
        var carol = await DeviceAsync(await UserAsync("carol"));
        var call = await alice.StartAsync(direct);
        await bob1.InvokeAsync("AcceptCall", call.Id);

        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            carol.Hub.InvokeAsync("Signal", call.Id, alice.DeviceId, "offer")), ProblemTypes.NotFound);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            bob2.Hub.InvokeAsync("Signal", call.Id, alice.DeviceId, "offer")), ProblemTypes.NotFound);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            alice.Hub.InvokeAsync("Signal", call.Id, bob2.DeviceId, "offer")), ProblemTypes.Conflict);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            alice.Hub.InvokeAsync("Signal", call.Id, bob1.DeviceId, new string('v', 16_385))), ProblemTypes.PayloadTooLarge);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            alice.Hub.InvokeAsync("Signal", call.Id, bob1.DeviceId, "")), ProblemTypes.Validation);

        Assert.False(alice.Signals.Reader.TryRead(out _));
        Assert.False(bob1.Signals.Reader.TryRead(out _));
        Assert.Equal(HubConnectionState.Connected, carol.Hub.State);
        await alice.Hub.InvokeAsync("Signal", call.Id, bob1.DeviceId, new string('v', 16_384));
        Assert.Equal(16_384, (await bob1.Signals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait)).Payload.Length);
    }

    [Fact]
    public async Task PeerSignal_OutsideCalls_ReachesOneDeviceOrAllOfTheUser_OnlyBetweenUsersWhoShareAConversation()
    {
        var (alice, bob1, bob2, _) = await AliceAndBobWithTwoDevicesAsync();
        var carol = await DeviceAsync(await UserAsync("carol"));
        var bobId = await UserIdAsync(bob1);
        var aliceId = await UserIdAsync(alice);
        var carolId = await UserIdAsync(carol);

        // To every device of the user (who is online?), then to the one that answered.
        await alice.Hub.InvokeAsync("PeerSignal", bobId, null, "{\"hello\":1}");
        foreach (var bob in new[] { bob1, bob2 })
        {
            var hello = await bob.PeerSignals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait);
            Assert.Equal((aliceId, alice.DeviceId, (string?)null, "{\"hello\":1}"), (hello.FromUserId, hello.FromDeviceId, hello.ToDeviceId, hello.Payload));
        }

        await bob2.Hub.InvokeAsync("PeerSignal", aliceId, alice.DeviceId, "here");
        var here = await alice.PeerSignals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait);
        Assert.Equal((bobId, bob2.DeviceId, alice.DeviceId, "here"), (here.FromUserId, here.FromDeviceId, here.ToDeviceId, here.Payload));
        await alice.Hub.InvokeAsync("PeerSignal", bobId, bob2.DeviceId, "offer");
        Assert.Equal("offer", (await bob2.PeerSignals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait)).Payload);

        // A device id of another user goes nowhere: the group is the target user's device.
        await alice.Hub.InvokeAsync("PeerSignal", bobId, carol.DeviceId, "misaddressed");

        // Carol shares no conversation with Alice: refused, as for a user that does not exist.
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            carol.Hub.InvokeAsync("PeerSignal", aliceId, alice.DeviceId, "offer")), ProblemTypes.NotFound);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            carol.Hub.InvokeAsync("PeerSignal", Guid.NewGuid(), null, "offer")), ProblemTypes.NotFound);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            alice.Hub.InvokeAsync("PeerSignal", bobId, bob1.DeviceId, new string('v', 16_385))), ProblemTypes.PayloadTooLarge);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            alice.Hub.InvokeAsync("PeerSignal", bobId, bob1.DeviceId, "")), ProblemTypes.Validation);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() =>
            alice.Hub.InvokeAsync("PeerSignal", bobId, alice.DeviceId, "self")), ProblemTypes.Validation);

        // Nothing else arrived anywhere (a signal after the refusals shows the queue is drained up to it).
        await alice.Hub.InvokeAsync("PeerSignal", bobId, bob1.DeviceId, "last");
        Assert.Equal("last", (await bob1.PeerSignals.Reader.ReadAsync().AsTask().WaitAsync(CallDevice.Wait)).Payload);
        Assert.False(bob1.PeerSignals.Reader.TryRead(out _));
        Assert.False(bob2.PeerSignals.Reader.TryRead(out _));
        Assert.False(carol.PeerSignals.Reader.TryRead(out _));
        Assert.False(alice.PeerSignals.Reader.TryRead(out _));
        Assert.False(alice.Signals.Reader.TryRead(out _));
    }

    private static Task<Guid> UserIdAsync(CallDevice device) => device.Api.MyIdAsync();

    [Fact]
    public async Task Signal_BeyondTheDevicesRate_IsRefused()
    {
        var (alice, bob1, _, direct) = await AliceAndBobWithTwoDevicesAsync();
        var call = await alice.StartAsync(direct);
        await bob1.InvokeAsync("AcceptCall", call.Id);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var relayed = 0;
        HubException? limited = null;
        for (var i = 0; i < 400 && limited is null; i++)
        {
            try
            {
                await alice.Hub.InvokeAsync("Signal", call.Id, bob1.DeviceId, "candidate");
                relayed++;
            }
            catch (HubException ex)
            {
                limited = ex;
            }
        }

        Assert.NotNull(limited);
        CallDevice.AssertRefused(limited, ProblemTypes.RateLimited);
        // Burst 40 plus 20 per second elapsed.
        Assert.InRange(relayed, 40, 40 + (20 * ((int)started.Elapsed.TotalSeconds + 1)));
    }

    [Fact]
    public async Task GroupCall_JoinAndLeave_UpToTheMeshLimit_EndsWhenTheLastLeaves()
    {
        var alice = await DeviceAsync(await UserAsync("alice"));
        var bob = await DeviceAsync(await UserAsync("bob"));
        var carol = await DeviceAsync(await UserAsync("carol"));
        var dave = await DeviceAsync(await UserAsync("dave"));
        var group = await alice.Api.CreateGroupAsync("standup", await bob.Api.MyIdAsync(), await carol.Api.MyIdAsync(), await dave.Api.MyIdAsync());

        var call = await alice.StartAsync(group.Id);
        Assert.Equal(4, call.Participants.Count);
        await bob.InvokeAsync("AcceptCall", call.Id);
        await alice.WaitForAsync(CallEvents.CallAccepted, call.Id);
        var joined = await carol.InvokeAsync("JoinCall", call.Id);
        Assert.Equal(3, joined.Participants.Count(p => p.State == CallParticipantStates.Joined));
        Assert.Equal(carol.DeviceId, (await bob.WaitForAsync(CallEvents.CallParticipantJoined, call.Id)).DeviceId);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() => dave.InvokeAsync("AcceptCall", call.Id)), ProblemTypes.CallFull);

        await carol.InvokeAsync("LeaveCall", call.Id);
        Assert.Equal(carol.DeviceId, (await alice.WaitForAsync(CallEvents.CallParticipantLeft, call.Id)).DeviceId);
        Assert.Equal(CallStates.Active, (await dave.InvokeAsync("AcceptCall", call.Id)).State);
        await alice.InvokeAsync("LeaveCall", call.Id);
        await dave.InvokeAsync("HangUp", call.Id);
        Assert.False(bob.HasReceived(CallEvents.CallEnded, call.Id));
        var ended = await bob.InvokeAsync("LeaveCall", call.Id);
        Assert.Equal((CallStates.Ended, CallEndReasons.Completed), (ended.State, ended.EndReason));
        await carol.WaitForAsync(CallEvents.CallEnded, call.Id);
    }

    [Fact]
    public async Task CallHistory_Paginates_NewestFirst_StrangerGetsNotFound()
    {
        var (alice, bob, _, direct) = await AliceAndBobWithTwoDevicesAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var call = await alice.StartAsync(direct);
            await alice.InvokeAsync("HangUp", call.Id);
            ids.Add(call.Id);
        }

        var first = (await bob.Api.GetFromJsonAsync<CallPageResponse>($"/api/v1/calls?conversationId={direct}&limit=2"))!;
        Assert.Equal([ids[2], ids[1]], first.Items.Select(c => c.Id));
        Assert.True(first.HasMore);
        var second = (await bob.Api.GetFromJsonAsync<CallPageResponse>($"/api/v1/calls?conversationId={direct}&limit=2&before={ids[1]}"))!;
        Assert.Equal([ids[0]], second.Items.Select(c => c.Id));
        Assert.False(second.HasMore);

        using var stranger = await UserAsync("mallory");
        using var refused = await stranger.GetAsync($"/api/v1/calls?conversationId={direct}");
        await refused.AssertProblemAsync(404, ProblemTypes.NotFound);
        using var invalid = await bob.Api.GetAsync($"/api/v1/calls?conversationId={direct}&limit=0");
        await invalid.AssertProblemAsync(400, ProblemTypes.Validation);
        var strangerDevice = await DeviceAsync(stranger);
        CallDevice.AssertRefused(await Assert.ThrowsAsync<HubException>(() => strangerDevice.StartAsync(direct)), ProblemTypes.NotFound);
    }

    private async Task<HttpClient> UserAsync(string name)
    {
        var client = await SignedInUsers.RegisterAndSignInAsync(server, name);
        owned.Add(new Disposer(client));
        return client;
    }

    private async Task<CallDevice> DeviceAsync(HttpClient api)
    {
        var device = await CallDevice.ConnectAsync(server, api);
        owned.Add(device);
        return device;
    }

    private async Task<(CallDevice Alice, CallDevice Bob1, CallDevice Bob2, Guid Direct)> AliceAndBobWithTwoDevicesAsync()
    {
        var aliceApi = await UserAsync("alice");
        var bobApi = await UserAsync("bob");
        var bobSecond = await SignedInUsers.SignInAsync(server, "bob");
        owned.Add(new Disposer(bobSecond));
        var (status, direct) = await aliceApi.CreateDirectAsync(await bobApi.MyIdAsync());
        Assert.Equal(HttpStatusCode.Created, status);
        var alice = await DeviceAsync(aliceApi);
        var bob1 = await DeviceAsync(bobApi);
        var bob2 = await DeviceAsync(bobSecond);
        Assert.NotEqual(bob1.DeviceId, bob2.DeviceId);
        return (alice, bob1, bob2, direct.Id);
    }

    private sealed class Disposer(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

public sealed class SqliteCallTests() : CallTests(Provider.Sqlite);

public sealed class PostgresCallTests() : CallTests(Provider.Postgres);
