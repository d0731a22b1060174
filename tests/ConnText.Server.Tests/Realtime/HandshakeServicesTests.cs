using System.Security.Claims;
using ConnText.Contracts.Conversations;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Realtime;

/// <summary>
/// A hub connection is one long HTTP request. What authenticating it resolved (the token look-up's DbContext,
/// OpenIddict's stores, the handlers) must not stay alive with it: that was a third of an idle connection's memory.
/// </summary>
public sealed class HandshakeServicesTests
{
    [Fact]
    public async Task OpenHubConnections_KeepNoServicesOfTheirHandshake()
    {
        var probes = new Probes();
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite, services: s =>
        {
            // Resolved from the request's services by every authentication, like the token look-up's DbContext.
            s.AddSingleton(probes);
            s.AddScoped<IClaimsTransformation, ProbeTransformation>();
        });
        using var alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        var group = await alice.CreateGroupAsync("scopes");
        var hubs = new List<HubClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                hubs.Add(await HubClient.ConnectAsync(server.Address, alice));
            }

            Assert.True(probes.Created >= 3, $"authentication ran {probes.Created} times");
            // A finished REST request's scope ends just after its response: wait a moment for that, never for a hub's.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (probes.Alive > 0 && waited.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50);
            }

            Assert.Equal(0, probes.Alive);
            // The connections work without them: an invocation, and a push.
            foreach (var hub in hubs)
            {
                Assert.Empty((await hub.Connection.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L)).Items);
            }

            var sent = await alice.SendAsync(group.Id, "still here");
            foreach (var hub in hubs)
            {
                Assert.Equal(sent.Sequence, (await HubClient.NextAsync(hub.Events)).Sequence);
            }
        }
        finally
        {
            foreach (var hub in hubs)
            {
                await hub.DisposeAsync();
            }
        }
    }

    private sealed class Probes
    {
        private int created;
        private int alive;

        public int Created => Volatile.Read(ref created);

        public int Alive => Volatile.Read(ref alive);

        public void Start()
        {
            Interlocked.Increment(ref created);
            Interlocked.Increment(ref alive);
        }

        public void End() => Interlocked.Decrement(ref alive);
    }

    private sealed class ProbeTransformation : IClaimsTransformation, IDisposable
    {
        private readonly Probes probes;

        public ProbeTransformation(Probes probes)
        {
            this.probes = probes;
            probes.Start();
        }

        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal) => Task.FromResult(principal);

        public void Dispose() => probes.End();
    }
}
