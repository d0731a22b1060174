using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace ConnText.UI.Text;

/// <summary>
/// Renders the Markdown subset of messages to HTML that is safe to insert: everything the sender wrote is
/// HTML-encoded first (raw HTML never passes), then only these become markup: fenced code blocks, `code`,
/// **bold**, *italic* / _italic_, ~~strikethrough~~, [text](url) and bare URLs (http, https and mailto only, opened
/// with rel="noopener noreferrer nofollow"), and line breaks.
/// </summary>
public static partial class MarkdownRenderer
{
    private const char Placeholder = '\u0001';

    /// <summary>The HTML for <paramref name="text"/>.</summary>
    public static string ToHtml(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var html = new StringBuilder();
        var parts = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("```");
        for (var i = 0; i < parts.Length; i++)
        {
            // Odd parts are inside a fence (an unclosed fence runs to the end, as most renderers do).
            if (i % 2 == 1)
            {
                var code = parts[i];
                var newline = code.IndexOf('\n', StringComparison.Ordinal);
                if (newline >= 0 && !code[..newline].Contains(' ', StringComparison.Ordinal))
                {
                    code = code[(newline + 1)..]; // The language tag line.
                }

                html.Append("<pre><code>").Append(WebUtility.HtmlEncode(code.TrimEnd('\n'))).Append("</code></pre>");
            }
            else
            {
                html.Append(Inline(parts[i].Trim('\n')));
            }
        }

        return html.ToString();
    }

    private static string Inline(string text)
    {
        var kept = new List<string>();
        string Keep(string html)
        {
            kept.Add(html);
            return $"{Placeholder}{kept.Count - 1}{Placeholder}";
        }

        // The placeholder character cannot come from the sender (it would address a kept fragment).
        text = text.Replace(Placeholder.ToString(), "", StringComparison.Ordinal);

        // Code spans first: nothing inside them is formatting.
        text = CodeSpan().Replace(text, m => Keep("<code>" + WebUtility.HtmlEncode(m.Groups[1].Value) + "</code>"));
        var encoded = WebUtility.HtmlEncode(text);

        // Links on the encoded text: the URL's & is already &amp; (right inside an attribute) and no quote survives.
        encoded = Link().Replace(encoded, m =>
        {
            if (m.Groups["url"].Success)
            {
                return Keep(Anchor(m.Groups["url"].Value, Emphasis(m.Groups["label"].Value)));
            }

            var bare = m.Groups["bare"].Value;
            var trailing = "";
            while (bare.Length > 0 && ".,;:!?)".Contains(bare[^1], StringComparison.Ordinal))
            {
                trailing = bare[^1] + trailing; // Sentence punctuation after a URL is not part of it.
                bare = bare[..^1];
            }

            return Keep(Anchor(bare, bare)) + trailing;
        });

        encoded = Emphasis(encoded).Replace("\n", "<br>", StringComparison.Ordinal);
        return Restore().Replace(encoded, m => kept[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]);
    }

    private static string Emphasis(string encoded)
    {
        encoded = Bold().Replace(encoded, "<strong>$1</strong>");
        encoded = Italic().Replace(encoded, "<em>$2</em>");
        return Strike().Replace(encoded, "<del>$1</del>");
    }

    private static string Anchor(string encodedUrl, string label) =>
        $"<a href=\"{encodedUrl}\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">{label}</a>";

    [GeneratedRegex("`([^`\n]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\[(?<label>[^\]\n]+)\]\((?<url>(?:https?://|mailto:)[^\s()]+)\)|(?<bare>\bhttps?://[^\s<]+)", RegexOptions.IgnoreCase)]
    private static partial Regex Link();

    [GeneratedRegex(@"\*\*(?=\S)(.+?)(?<=\S)\*\*")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")]
    private static partial Regex Italic();

    [GeneratedRegex(@"~~(?=\S)(.+?)(?<=\S)~~")]
    private static partial Regex Strike();

    [GeneratedRegex("\u0001(\\d+)\u0001")]
    private static partial Regex Restore();
}
