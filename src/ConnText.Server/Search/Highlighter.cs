using System.Text;
using ConnText.Contracts.Search;

namespace ConnText.Server.Search;

/// <summary>
/// Finds the query's words in a message text and cuts a snippet around the first one. Done here rather than with
/// <c>ts_headline</c> / FTS5 <c>snippet()</c> so both databases give the same answer and the result is ranges
/// over plain text: markers embedded by the engine could collide with characters a sender typed.
/// </summary>
internal static class Highlighter
{
    public static (string Snippet, int Offset, List<TextRange> Highlights) Highlight(string text, IReadOnlyList<SearchTerm> terms, int snippetChars)
    {
        var matches = Words(text).Where(w => Matches(text.AsSpan(w.Offset, w.Length), terms)).ToList();
        if (text.Length <= snippetChars)
        {
            return (text, 0, matches);
        }

        // Start a little before the first match, on a word boundary, and end on one.
        var first = matches.Count > 0 ? matches[0].Offset : 0;
        var start = Math.Max(0, first - (snippetChars / 4));
        start = Math.Min(first, NextBoundary(text, start));
        var end = Math.Min(text.Length, start + snippetChars);
        end = PreviousBoundary(text, end, minimum: matches.Count > 0 ? first + matches[0].Length : start + 1);
        var shown = matches.Where(m => m.Offset >= start && m.Offset + m.Length <= end)
            .Select(m => new TextRange(m.Offset - start, m.Length)).ToList();
        return (text[start..end], start, shown);
    }

    /// <summary>Runs of word characters (<see cref="SearchQuery.IsWordRune"/>), the way the engines split text.</summary>
    private static IEnumerable<TextRange> Words(string text)
    {
        var start = -1;
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (SearchQuery.IsWordRune(rune))
            {
                if (start < 0)
                {
                    start = index;
                }
            }
            else if (start >= 0)
            {
                yield return new TextRange(start, index - start);
                start = -1;
            }

            index += rune.Utf16SequenceLength;
        }

        if (start >= 0)
        {
            yield return new TextRange(start, index - start);
        }
    }

    private static bool Matches(ReadOnlySpan<char> word, IReadOnlyList<SearchTerm> terms)
    {
        var lower = word.ToString().ToLowerInvariant();
        foreach (var term in terms)
        {
            if (term.Prefix ? lower.StartsWith(term.Text, StringComparison.Ordinal) : string.Equals(lower, term.Text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The start of the next word at or after <paramref name="index"/> (never inside a surrogate pair).</summary>
    private static int NextBoundary(string text, int index)
    {
        if (index == 0)
        {
            return 0;
        }

        var i = index;
        while (i < text.Length && Rune.TryGetRuneAt(text, i, out var rune) && SearchQuery.IsWordRune(rune) && i - index < 32)
        {
            i += rune.Utf16SequenceLength;
        }

        if (i < text.Length && char.IsLowSurrogate(text[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>The end of the last whole word at or before <paramref name="index"/>, but not before <paramref name="minimum"/>.</summary>
    private static int PreviousBoundary(string text, int index, int minimum)
    {
        if (index >= text.Length)
        {
            return text.Length;
        }

        var i = index;
        while (i > minimum && !char.IsWhiteSpace(text[i - 1]) && index - i < 32)
        {
            i--;
        }

        if (i <= minimum || index - i >= 32)
        {
            i = index;
        }

        // Never end between the two halves of a surrogate pair.
        if (i > 0 && i < text.Length && char.IsLowSurrogate(text[i]))
        {
            i--;
        }

        return Math.Max(i, Math.Min(minimum, text.Length));
    }
}
