using System.Text.RegularExpressions;

namespace ConnText.UI.Text;

/// <summary>The same Markdown subset as plain text: what a one-line preview or a notification shows.</summary>
public static partial class MarkdownRenderer
{
    /// <summary>
    /// <paramref name="text"/> without formatting: code keeps its content without the backticks, emphasis and
    /// strikethrough lose their markers, a link shows its label, and line breaks become spaces.
    /// </summary>
    public static string ToPlainText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var parts = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("```");
        for (var i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1)
            {
                var newline = parts[i].IndexOf('\n', StringComparison.Ordinal);
                if (newline >= 0 && !parts[i][..newline].Contains(' ', StringComparison.Ordinal))
                {
                    parts[i] = parts[i][(newline + 1)..]; // The language tag line.
                }

                continue;
            }

            var kept = new List<string>();
            var part = CodeSpan().Replace(parts[i], m =>
            {
                kept.Add(m.Groups[1].Value); // Nothing inside code is formatting.
                return $"{Placeholder}{kept.Count - 1}{Placeholder}";
            });
            part = LinkLabel().Replace(part, "${label}");
            part = Bold().Replace(part, "$1");
            part = Italic().Replace(part, "$2");
            part = Strike().Replace(part, "$1");
            parts[i] = Restore().Replace(part, m => kept[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]);
        }

        return Whitespace().Replace(string.Concat(parts), " ").Trim();
    }

    [GeneratedRegex(@"\[(?<label>[^\]\n]+)\]\((?:https?://|mailto:)[^\s()]+\)", RegexOptions.IgnoreCase)]
    private static partial Regex LinkLabel();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
