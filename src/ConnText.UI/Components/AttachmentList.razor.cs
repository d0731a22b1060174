using System.Globalization;
using ConnText.Contracts.Files;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>A message's files: images as thumbnails (opening the full image), anything else as a download.</summary>
public sealed partial class AttachmentList
{
    private const int PreviewBox = 240;

    // The types the server (and the host's relay) serve inline; anything else is only ever downloaded.
    private static readonly HashSet<string> Images = new(StringComparer.OrdinalIgnoreCase) { "image/png", "image/jpeg", "image/gif", "image/webp" };

    [Parameter]
    public Guid AccountId { get; set; }

    [Parameter]
    public IReadOnlyList<FileResponse>? Attachments { get; set; }

    /// <summary>A byte count as people read it.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GB"),
    };

    private static bool IsImage(FileResponse file) => Images.Contains(file.ContentType) && file.Width is > 0 && file.Height is > 0;

    /// <summary>The preview's size: the image scaled down (never up) into the preview box, so the layout does not jump as it loads.</summary>
    private static (int Width, int Height) Fit(FileResponse file)
    {
        var (width, height) = (file.Width!.Value, file.Height!.Value);
        var scale = Math.Min(1.0, Math.Min((double)PreviewBox / width, (double)PreviewBox / height));
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }
}
