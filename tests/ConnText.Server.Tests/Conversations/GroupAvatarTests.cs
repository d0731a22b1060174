using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConnText.Server.Tests.Conversations;

/// <summary>A group's avatar: set and removed by managers as sequenced events, visible to members only, images checked.</summary>
public abstract class GroupAvatarTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private HttpClient mallory = null!;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        mallory = await SignedInUsers.RegisterAndSignInAsync(server, "mallory");
        bobId = await bob.MyIdAsync();
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        bob.Dispose();
        mallory.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task SetAvatar_ByTheOwner_IsCroppedAnnouncedAndSeenByMembersOnly()
    {
        var group = await alice.CreateGroupAsync("Team", bobId);
        Assert.Null(group.AvatarUrl);

        using var set = await PutAsync(alice, group.Id, await JpegAsync(800, 400));
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var updated = (await set.Content.ReadFromJsonAsync<ConversationResponse>())!;
        Assert.StartsWith($"/api/v1/conversations/{group.Id}/avatar?v=", updated.AvatarUrl, StringComparison.Ordinal);

        // Bob's devices learn it from a sequenced event and see it in the listing.
        var events = await bob.EventsAsync(group.Id, group.LastSequence);
        Assert.Equal(ConversationEventKinds.ConversationUpdated, Assert.Single(events.Items).Kind);
        var listed = (await bob.GetFromJsonAsync<ConversationPageResponse>("/api/v1/conversations"))!.Items.Single(c => c.Id == group.Id);
        Assert.Equal(updated.AvatarUrl, listed.AvatarUrl);

        using var image = await bob.GetAsync(updated.AvatarUrl);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        using (var stored = Image.Load<Rgba32>(await image.Content.ReadAsByteArrayAsync()))
        {
            Assert.Equal((256, 256), (stored.Width, stored.Height));
        }

        using var stranger = await mallory.GetAsync(updated.AvatarUrl);
        await stranger.AssertProblemAsync(404, ProblemTypes.NotFound);
        using var anonymous = await server.Client.GetAsync(updated.AvatarUrl);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task SetAvatar_ByAMemberOrAStrangerOrOnADirectConversation_IsRefusedAndNothingChanges()
    {
        var group = await alice.CreateGroupAsync("Team", bobId);
        var (_, direct) = await alice.CreateDirectAsync(bobId);
        var jpeg = await JpegAsync(64, 64);

        using (var member = await PutAsync(bob, group.Id, jpeg))
        {
            await member.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        using (var stranger = await PutAsync(mallory, group.Id, jpeg))
        {
            await stranger.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        using (var missing = await PutAsync(alice, Guid.NewGuid(), jpeg))
        {
            await missing.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        using (var onDirect = await PutAsync(alice, direct.Id, jpeg))
        {
            await onDirect.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        var after = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Null(after.AvatarUrl);
        Assert.Equal(group.LastSequence, after.LastSequence); // no event, no sequence spent
    }

    [Fact]
    public async Task SetAvatar_NotAnImageOrTooLarge_IsRefusedAndTheOldAvatarStays()
    {
        var group = await alice.CreateGroupAsync("Team", bobId);
        using (var first = await PutAsync(alice, group.Id, await JpegAsync(100, 100)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var before = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        var original = await alice.GetByteArrayAsync(before.AvatarUrl);

        using (var garbage = await PutAsync(alice, group.Id, "not an image"u8.ToArray()))
        {
            await garbage.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        using (var truncated = await PutAsync(alice, group.Id, (await JpegAsync(300, 300))[..200]))
        {
            await truncated.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        using (var huge = await PutAsync(alice, group.Id, new byte[6 * 1024 * 1024]))
        {
            await huge.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);
        }

        var after = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Equal(before.AvatarUrl, after.AvatarUrl);
        Assert.Equal(before.LastSequence, after.LastSequence);
        Assert.Equal(original, await alice.GetByteArrayAsync(after.AvatarUrl));
        Assert.Empty(Directory.GetFiles(Path.Combine(server.DataDirectory, "avatars", "conversations"), "*.staged"));
    }

    [Fact]
    public async Task DeleteAvatar_ByAnAdmin_RemovesItWithAnEvent_AgainIsANoOp()
    {
        var group = await alice.CreateGroupAsync("Team", bobId);
        using (var promote = await alice.PutAsJsonAsync($"/api/v1/conversations/{group.Id}/members/{bobId}/role", new SetMemberRoleRequest(MemberRoles.Admin)))
        {
            Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        }

        using (var set = await PutAsync(bob, group.Id, await JpegAsync(64, 64)))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var withAvatar = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        using (var delete = await bob.DeleteAsync($"/api/v1/conversations/{group.Id}/avatar"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
            Assert.Null((await delete.Content.ReadFromJsonAsync<ConversationResponse>())!.AvatarUrl);
        }

        using (var gone = await alice.GetAsync(withAvatar.AvatarUrl))
        {
            await gone.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        var afterDelete = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Equal(withAvatar.LastSequence + 1, afterDelete.LastSequence);
        using (var again = await bob.DeleteAsync($"/api/v1/conversations/{group.Id}/avatar"))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal(afterDelete.LastSequence, (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!.LastSequence);
    }

    private static async Task<byte[]> JpegAsync(int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(30, 120, 200));
        using var stream = new MemoryStream();
        await image.SaveAsJpegAsync(stream);
        return stream.ToArray();
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, Guid conversationId, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/conversations/{conversationId}/avatar") { Content = content };
        // Expect: 100-continue lets the server refuse an oversized body from Content-Length before it is sent.
        request.Headers.ExpectContinue = true;
        return await client.SendAsync(request);
    }
}

public sealed class SqliteGroupAvatarTests() : GroupAvatarTests(Provider.Sqlite);

public sealed class PostgresGroupAvatarTests() : GroupAvatarTests(Provider.Postgres);
