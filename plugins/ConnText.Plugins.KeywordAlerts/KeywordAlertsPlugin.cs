namespace ConnText.Plugins.KeywordAlerts;

/// <summary>Watches received messages for the keywords set in its settings panel; notifies and marks the message.</summary>
public sealed class KeywordAlertsPlugin : IPlugin
{
    public const string KeywordsKey = "keywords";

    private IPluginContext? context;

    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        this.context = context;
        context.AddSettingsPanel(new SettingsPanel("Keyword alerts",
        [
            new SettingField(KeywordsKey, "Keywords", "Separated by commas or new lines; case does not matter.", Multiline: true),
        ]));
        context.AddIncomingHook(CheckAsync);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken)
    {
        context = null;
        return ValueTask.CompletedTask;
    }

    private async ValueTask<string?> CheckAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (context is not { } current)
        {
            return null;
        }

        var found = Keywords.Matching(message.Text, current.Storage.GetValue(KeywordsKey));
        if (found.Count == 0)
        {
            return null;
        }

        var words = string.Join(", ", found);
        await current.NotifyAsync(new PluginNotification($"{message.SenderName} mentioned {words}", $"in {message.ConversationName}"), cancellationToken);
        return "🔔 " + words;
    }
}

/// <summary>The matching itself, separate so it can be tested without a host.</summary>
public static class Keywords
{
    /// <summary>The keywords of <paramref name="list"/> (comma or line separated) that occur in <paramref name="text"/>, ignoring case.</summary>
    public static IReadOnlyList<string> Matching(string text, string? list) =>
        string.IsNullOrWhiteSpace(list)
            ? []
            : [.. list.Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(k => text.Contains(k, StringComparison.OrdinalIgnoreCase))];
}
