namespace ConnText.Server.Files;

/// <summary>
/// The media type from the content's first bytes. The uploader's claim is never used: a file that says it is
/// a PNG but starts with <c>&lt;html&gt;</c> is text, and is served as a download, not rendered.
/// </summary>
internal static class ContentSniffer
{
    public const int HeaderBytes = 4096;
    public const string OctetStream = "application/octet-stream";

    /// <summary>Types a browser may display inline from this server: raster formats without scripts.</summary>
    public static readonly IReadOnlySet<string> SafeInlineImages = new HashSet<string>(StringComparer.Ordinal)
    {
        "image/png", "image/jpeg", "image/gif", "image/webp",
    };

    /// <summary>Formats the thumbnailer decodes.</summary>
    public static readonly IReadOnlySet<string> ThumbnailSources = new HashSet<string>(StringComparer.Ordinal)
    {
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp",
    };

    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF];
    private static readonly byte[] SevenZip = [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C];
    private static readonly byte[] Gzip = [0x1F, 0x8B];
    private static readonly byte[] Matroska = [0x1A, 0x45, 0xDF, 0xA3];

    public static string Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith(Png))
        {
            return "image/png";
        }

        if (head.StartsWith(Jpeg))
        {
            return "image/jpeg";
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8))
        {
            var form = head[8..12];
            return form.SequenceEqual("WEBP"u8) ? "image/webp"
                : form.SequenceEqual("WAVE"u8) ? "audio/wav"
                : form.SequenceEqual("AVI "u8) ? "video/x-msvideo"
                : OctetStream;
        }

        if (head.StartsWith("BM"u8) && head.Length >= 26 && head[14] is 12 or 40 or 52 or 56 or 64 or 108 or 124)
        {
            return "image/bmp";
        }

        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8))
        {
            return "image/tiff";
        }

        if (head.StartsWith("%PDF-"u8))
        {
            return "application/pdf";
        }

        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8))
        {
            return "application/zip";
        }

        if (head.StartsWith(Gzip))
        {
            return "application/gzip";
        }

        if (head.StartsWith(SevenZip))
        {
            return "application/x-7z-compressed";
        }

        if (head.StartsWith("Rar!\x1A\x07"u8))
        {
            return "application/vnd.rar";
        }

        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = head[8..12];
            return brand.StartsWith("M4A"u8) ? "audio/mp4"
                : brand.StartsWith("qt"u8) ? "video/quicktime"
                : brand.SequenceEqual("avif"u8) ? "image/avif"
                : brand.StartsWith("hei"u8) || brand.StartsWith("mif1"u8) ? "image/heic"
                : "video/mp4";
        }

        if (head.StartsWith(Matroska))
        {
            return "video/webm";
        }

        if (head.StartsWith("OggS"u8))
        {
            return "audio/ogg";
        }

        if (head.StartsWith("fLaC"u8))
        {
            return "audio/flac";
        }

        if (head.StartsWith("ID3"u8) || (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0))
        {
            return "audio/mpeg";
        }

        return LooksLikeText(head) ? "text/plain" : OctetStream;
    }

    /// <summary>
    /// Valid UTF-8 without NULs is text. HTML and SVG are text too: they are stored and downloaded, never rendered.
    /// A multi-byte character cut off at the end of the header does not count against it.
    /// </summary>
    private static bool LooksLikeText(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty || head.Contains((byte)0))
        {
            return false;
        }

        var trimmed = head;
        for (var i = 0; i < 3 && trimmed.Length > 0 && (trimmed[^1] & 0x80) != 0; i++)
        {
            if (Utf8IsValid(trimmed))
            {
                return true;
            }

            trimmed = trimmed[..^1];
        }

        return Utf8IsValid(trimmed);
    }

    private static bool Utf8IsValid(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);

    public static async Task<string> DetectAsync(string path, CancellationToken cancellationToken)
    {
        var buffer = new byte[HeaderBytes];
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return Detect(buffer.AsSpan(0, read));
    }
}
