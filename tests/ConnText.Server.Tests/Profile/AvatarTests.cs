using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace ConnText.Server.Tests.Profile;

public sealed class AvatarTests : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient alice = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(Provider.Sqlite);
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Upload_IsCroppedTo256Png_WithoutMetadata_AndServedWithETag()
    {
        using var photo = new Image<Rgba32>(1000, 500, new Rgba32(200, 30, 30));
        photo.Metadata.ExifProfile = new ExifProfile();
        photo.Metadata.ExifProfile.SetValue(ExifTag.Artist, "secret-location-marker");
        using var jpeg = new MemoryStream();
        await photo.SaveAsJpegAsync(jpeg);

        using (var upload = await PutAsync(jpeg.ToArray(), "image/jpeg"))
        {
            Assert.Equal(HttpStatusCode.NoContent, upload.StatusCode);
        }

        var me = await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me");
        Assert.NotNull(me!.AvatarUrl);
        using var response = await alice.GetAsync(me.AvatarUrl);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var stored = Image.Load<Rgba32>(bytes);
        Assert.Equal((256, 256), (stored.Width, stored.Height));
        Assert.Null(stored.Metadata.ExifProfile);
        Assert.DoesNotContain("secret-location-marker", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, me.AvatarUrl);
        conditional.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var notModified = await alice.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task NotAnImage_IsRefused_WhateverTheContentTypeSays()
    {
        using var response = await PutAsync(Encoding.UTF8.GetBytes("<svg onload=alert(1)>"), "image/png");
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("image", out _));
    }

    [Fact]
    public async Task DecompressionBomb_IsRefusedFromItsHeader()
    {
        using var response = await PutAsync(PngHeaderClaiming(60_000, 60_000), "image/png");
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        Assert.Contains("megapixels", problem.GetProperty("errors").GetProperty("image")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedImage_IsRefused()
    {
        using var image = new Image<Rgba32>(300, 300, new Rgba32(0, 0, 255));
        using var png = new MemoryStream();
        await image.SaveAsPngAsync(png);
        using var response = await PutAsync(png.ToArray()[..(int)(png.Length / 2)], "image/png");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Oversized_Is413()
    {
        // Expect: 100-continue lets the server refuse from Content-Length before the client sends 6 MiB.
        using var content = new ByteArrayContent(new byte[6 * 1024 * 1024]);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/me/avatar") { Content = content };
        request.Headers.ExpectContinue = true;
        using var response = await alice.SendAsync(request);
        await response.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);
    }

    [Fact]
    public async Task Delete_RemovesIt_AndAnonymousCannotFetch()
    {
        using var image = new Image<Rgba32>(64, 64, new Rgba32(0, 255, 0));
        using var png = new MemoryStream();
        await image.SaveAsPngAsync(png);
        using (await PutAsync(png.ToArray(), "image/png"))
        {
        }

        var me = await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me");
        using (var anonymous = await server.Client.GetAsync(me!.AvatarUrl))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var delete = await alice.DeleteAsync("/api/v1/me/avatar"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var gone = await alice.GetAsync($"/api/v1/users/{me.Id}/avatar");
        await gone.AssertProblemAsync(404, ProblemTypes.NotFound);
        Assert.Null((await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!.AvatarUrl);
    }

    private async Task<HttpResponseMessage> PutAsync(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await alice.PutAsync("/api/v1/me/avatar", content);
    }

    /// <summary>A valid PNG signature and IHDR chunk declaring a huge image, with no pixel data at all.</summary>
    private static byte[] PngHeaderClaiming(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 6; // RGBA
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typeAndData);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
