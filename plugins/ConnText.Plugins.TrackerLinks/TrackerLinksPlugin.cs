using System.Text.RegularExpressions;

namespace ConnText.Plugins.TrackerLinks;

/// <summary>Rewrites <c>#123</c> in outgoing messages into <c>[#123](https://tracker/issues/123)</c>.</summary>
public sealed class TrackerLinksPlugin : IPlugin
{
    public const string UrlKey = "trackerUrl";

    private IPluginStorage? storage;

    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        storage = context.Storage;
        context.AddSettingsPanel(new SettingsPanel("Tracker links",
        [
            new SettingField(UrlKey, "Issue URL", "{id} is replaced by the number, e.g. https://tracker.example.org/issues/{id}"),
        ]));
        context.AddOutgoingHook(TransformAsync);
        context.AddMessageAction(new MessageAction("Issue links", ListLinksAsync));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken)
    {
        storage = null;
        return ValueTask.CompletedTask;
    }

    private ValueTask<OutgoingDecision> TransformAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var template = storage?.GetValue(UrlKey);
        var linked = template is null ? null : IssueLinks.Apply(message.Text, template);
        return ValueTask.FromResult(linked is null || linked == message.Text ? OutgoingDecision.Keep : OutgoingDecision.Replace(linked));
    }

    /// <summary>The message action: the tracker links of the issue numbers in someone else's message, as a note.</summary>
    private ValueTask<string?> ListLinksAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        var template = storage?.GetValue(UrlKey);
        IReadOnlyList<string> links = template is null ? [] : IssueLinks.Find(message.Text, template);
        return ValueTask.FromResult<string?>(links.Count == 0 ? "No issue numbers." : string.Join("  ", links));
    }
}

/// <summary>The transformation itself, separate so it can be tested without a host.</summary>
public static partial class IssueLinks
{
    /// <summary>
    /// Links every <c>#digits</c> that stands on its own (not inside a word, a URL, a link or a code span) to
    /// <paramref name="template"/> with <c>{id}</c> replaced; returns <see langword="null"/> for a template that is not
    /// an http(s) URL containing <c>{id}</c>.
    /// </summary>
    public static string? Apply(string text, string template)
    {
        if (!template.Contains("{id}", StringComparison.Ordinal)
            || !(template.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || template.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            || template.Any(char.IsWhiteSpace) || template.Contains('(', StringComparison.Ordinal) || template.Contains(')', StringComparison.Ordinal))
        {
            return null;
        }

        // Code spans stay as written: split on backticks and only touch the parts outside them.
        var parts = text.Split('`');
        for (var i = 0; i < parts.Length; i += 2)
        {
            parts[i] = Issue().Replace(parts[i], m => $"[#{m.Groups["id"].Value}]({template.Replace("{id}", m.Groups["id"].Value, StringComparison.Ordinal)})");
        }

        return string.Join('`', parts);
    }

    /// <summary>"#id: url" for each issue number in <paramref name="text"/> (see <see cref="Apply"/>).</summary>
    public static IReadOnlyList<string> Find(string text, string template) =>
        Apply(text, template) is null
            ? []
            : [.. text.Split('`').Where((_, i) => i % 2 == 0).SelectMany(part => Issue().Matches(part))
                .Select(m => m.Groups["id"].Value).Distinct(StringComparer.Ordinal)
                .Select(id => $"#{id}: {template.Replace("{id}", id, StringComparison.Ordinal)}")];

    [GeneratedRegex(@"(?<![\w/#\[&])#(?<id>\d{1,9})\b", RegexOptions.CultureInvariant)]
    private static partial Regex Issue();
}
