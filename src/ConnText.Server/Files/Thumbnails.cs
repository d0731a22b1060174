using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ConnText.Server.Files;

/// <summary>
/// PNG thumbnails of images, made once per content and size and kept on disk beside the blobs. The header is read
/// first (<see cref="Image.IdentifyAsync(string, CancellationToken)"/>): an image with more pixels than
/// <see cref="FilesOptions.MaxThumbnailSourcePixels"/> is never decoded, so a small file that expands to gigabytes
/// (a decompression bomb) costs nothing. Only the first frame of a GIF is decoded; animated WebP is not decoded at all
/// (ImageSharp 2 would decode every frame and its header does not say how many there are).
/// </summary>
internal sealed partial class Thumbnails(ContentStore store, IOptions<FilesOptions> options, ILogger<Thumbnails> logger) : IDisposable
{
    // Decoding is memory-hungry: a few at a time, whatever the number of requests.
    private readonly SemaphoreSlim decoders = new(Math.Max(1, Environment.ProcessorCount / 2));

    private readonly Configuration configuration = CreateConfiguration();

    /// <summary>The thumbnail's path, making it when missing; null (with the reason) when the file cannot have one.</summary>
    public async Task<(string? Path, string? Refusal)> GetAsync(StoredFile file, CancellationToken cancellationToken)
    {
        if (!ContentSniffer.ThumbnailSources.Contains(file.ContentType))
        {
            return (null, "Thumbnails are made for PNG, JPEG, GIF, WebP and BMP images only.");
        }

        var size = options.Value.ThumbnailSize;
        var path = store.ThumbnailPath(file.Sha256, size);
        if (File.Exists(path))
        {
            return (path, null);
        }

        var source = store.BlobPath(file.Sha256);
        if (file.ContentType == "image/webp" && await IsAnimatedWebpAsync(source, cancellationToken))
        {
            return (null, "Animated WebP images have no thumbnail.");
        }

        await decoders.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(path))
            {
                return (path, null); // made by a concurrent request while this one waited
            }

            var info = await Image.IdentifyAsync(configuration, source, cancellationToken);
            if (info is null)
            {
                return (null, "The file is not a readable image.");
            }

            var pixels = (long)info.Width * info.Height;
            if (pixels > options.Value.MaxThumbnailSourcePixels)
            {
                LogRefused(logger, file.Id, info.Width, info.Height);
                return (null, $"The image is {info.Width}×{info.Height}; thumbnails are made for at most {options.Value.MaxThumbnailSourcePixels} pixels.");
            }

            using var image = await Image.LoadAsync<Rgba32>(configuration, source, cancellationToken);
            image.Mutate(x => x.AutoOrient().Resize(new ResizeOptions { Size = new Size(size, size), Mode = ResizeMode.Max }));
            image.Metadata.ExifProfile = null;
            image.Metadata.XmpProfile = null;
            image.Metadata.IptcProfile = null;
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            var temporary = path + $".{Guid.NewGuid():N}.tmp";
            await image.SaveAsPngAsync(temporary, new PngEncoder(), cancellationToken);
            File.Move(temporary, path, overwrite: true);
            return (path, null);
        }
        catch (Exception ex) when (ex is ImageFormatException or UnknownImageFormatException or InvalidImageContentException
                                       or NotSupportedException or SixLabors.ImageSharp.Memory.InvalidMemoryOperationException)
        {
            return (null, "The image is damaged or uses an unsupported variant.");
        }
        finally
        {
            decoders.Release();
        }
    }

    public void Dispose() => decoders.Dispose();

    private static Configuration CreateConfiguration()
    {
        var configuration = Configuration.Default.Clone();
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        return configuration;
    }

    /// <summary>A VP8X header with the animation flag (RIFF....WEBPVP8X, flags byte 20, bit 1).</summary>
    private static async Task<bool> IsAnimatedWebpAsync(string path, CancellationToken cancellationToken)
    {
        var header = new byte[21];
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        var read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken);
        return read == header.Length && header.AsSpan(12, 4).SequenceEqual("VP8X"u8) && (header[20] & 0x02) != 0;
    }

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "No thumbnail for file {FileId}: {Width}×{Height} pixels is above the limit")]
    private static partial void LogRefused(ILogger logger, Guid fileId, int width, int height);
}
