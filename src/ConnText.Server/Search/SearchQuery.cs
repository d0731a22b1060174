using System.Globalization;
using System.Text;

namespace ConnText.Server.Search;

/// <summary>One word of a query; <see cref="Prefix"/> when the user wrote <c>word*</c>.</summary>
internal sealed record SearchTerm(string Text, bool Prefix);

/// <summary>
/// Turns what a user typed into words, and words into each engine's query syntax. Only letters, digits and
/// combining marks form words; everything else (quotes, parentheses, <c>NEAR</c>, <c>:</c>, <c>&amp;</c>, <c>-</c>...)
/// only separates them. So no input can be an engine syntax error or an engine operator: the engines only ever see
/// quoted plain words (docs/adr/0012).
/// </summary>
internal static class SearchQuery
{
    public static List<SearchTerm> Parse(string query)
    {
        var terms = new List<SearchTerm>();
        var word = new StringBuilder();
        var runes = query.EnumerateRunes().ToList();
        for (var i = 0; i <= runes.Count; i++)
        {
            if (i < runes.Count && IsWordRune(runes[i]))
            {
                word.Append(runes[i].ToString());
                continue;
            }

            if (word.Length > 0)
            {
                var prefix = i < runes.Count && runes[i].Value == '*';
                var text = word.ToString().ToLowerInvariant();
                word.Clear();
                var existing = terms.FindIndex(t => string.Equals(t.Text, text, StringComparison.Ordinal));
                if (existing < 0)
                {
                    terms.Add(new SearchTerm(text, prefix));
                }
                else if (!prefix && terms[existing].Prefix)
                {
                    terms[existing] = new SearchTerm(text, Prefix: false); // "word word*": the exact word is required anyway
                }
            }
        }

        return terms;
    }

    /// <summary>The letter, number and mark categories: what SQLite's unicode61 tokenizer and PostgreSQL's parser treat as word characters.</summary>
    public static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
        _ => false,
    };

    /// <summary>An FTS5 MATCH expression: every word double-quoted (a string, never an operator), all required.</summary>
    public static string ToFts5(IEnumerable<SearchTerm> terms) =>
        string.Join(" AND ", terms.Select(t => "\"" + t.Text + "\"" + (t.Prefix ? "*" : "")));

    /// <summary>A <c>to_tsquery</c> input: every word single-quoted (a lexeme, never an operator), all required.</summary>
    public static string ToTsQuery(IEnumerable<SearchTerm> terms) =>
        string.Join(" & ", terms.Select(t => "'" + t.Text + "'" + (t.Prefix ? ":*" : "")));
}
