using System.Buffers.Binary;
using Microsoft.AspNetCore.WebUtilities;

namespace ConnText.Server.Search;

/// <summary>
/// Where a results page ended: the last hit's (createdAt, id). Results are ordered by exactly that pair, which is
/// unique and never changes for a message, so a page boundary stays put while new messages arrive or others are edited.
/// Opaque to clients (base64url) so its form may change.
/// </summary>
internal readonly record struct SearchCursor(DateTimeOffset CreatedAt, Guid Id)
{
    private const int Size = 8 + 16;

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        BinaryPrimitives.WriteInt64BigEndian(bytes, CreatedAt.UtcTicks);
        Id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return WebEncoders.Base64UrlEncode(bytes.ToArray());
    }

    public static bool TryParse(string? value, out SearchCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(value) || value.Length > 64)
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = WebEncoders.Base64UrlDecode(value);
        }
        catch (FormatException)
        {
            return false;
        }

        var ticks = bytes.Length == Size ? BinaryPrimitives.ReadInt64BigEndian(bytes) : -1;
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        cursor = new SearchCursor(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes.AsSpan(8), bigEndian: true));
        return true;
    }
}
