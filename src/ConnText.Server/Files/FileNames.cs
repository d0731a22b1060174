using System.Globalization;
using System.Text;

namespace ConnText.Server.Files;

/// <summary>
/// Display names are untrusted input that ends up in other users' save dialogs and file systems: only the
/// last path segment survives, without control, format (bidi override, zero-width) or path characters,
/// never a Windows device name, never empty, at most 255 UTF-8 bytes with the extension kept.
/// </summary>
internal static class FileNames
{
    public const string Fallback = "file";

    private static readonly HashSet<string> ReservedStems = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
    };

    public static string Sanitize(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return Fallback;
        }

        var normalized = name.Normalize(NormalizationForm.FormC);
        // Both separators, whatever the uploader's platform: "..\..\boot.ini" and "../../etc/passwd" keep their last segment.
        var lastSeparator = normalized.LastIndexOfAny(['/', '\\']);
        var segment = lastSeparator >= 0 ? normalized[(lastSeparator + 1)..] : normalized;

        var builder = new StringBuilder(segment.Length);
        foreach (var rune in segment.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                continue; // includes U+202A–U+202E and U+2066–U+2069 (bidi overrides and isolates), U+200B–U+200F
            }

            if (rune.IsAscii && "<>:\"|?*".Contains((char)rune.Value, StringComparison.Ordinal))
            {
                builder.Append('_');
                continue;
            }

            builder.Append(Rune.IsWhiteSpace(rune) ? " " : rune.ToString());
        }

        // Windows drops trailing dots and spaces; leading dots would hide the file on Unix.
        var cleaned = builder.ToString().Trim().Trim('.').Trim();
        if (cleaned.Length == 0)
        {
            return Fallback;
        }

        var stemEnd = cleaned.IndexOf('.', StringComparison.Ordinal);
        var stem = (stemEnd >= 0 ? cleaned[..stemEnd] : cleaned).TrimEnd();
        if (ReservedStems.Contains(stem))
        {
            cleaned = "_" + cleaned;
        }

        return Truncate(cleaned, StoredFile.NameMaxLength);
    }

    /// <summary>Cuts the stem (never inside a character) so the name fits <paramref name="maxBytes"/> UTF-8 bytes, keeping a short extension.</summary>
    private static string Truncate(string name, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(name) <= maxBytes && name.Length <= maxBytes)
        {
            return name;
        }

        var dot = name.LastIndexOf('.');
        var extension = dot > 0 && name.Length - dot <= 16 ? name[dot..] : "";
        var stem = extension.Length > 0 ? name[..dot] : name;
        var budget = maxBytes - Encoding.UTF8.GetByteCount(extension);
        var builder = new StringBuilder();
        var used = 0;
        foreach (var rune in stem.EnumerateRunes())
        {
            used += rune.Utf8SequenceLength;
            if (used > budget)
            {
                break;
            }

            builder.Append(rune.ToString());
        }

        return builder.ToString().TrimEnd() + extension;
    }
}
