using System.Text.Json;
using ConnText.Client.Auth;

namespace ConnText.Plugins.Hosting;

/// <summary>
/// <c>plugins.json</c>: which plugins the user enabled and the permissions they saw when they did. A plugin whose
/// manifest asks for more than was granted stays off until the user enables it again.
/// </summary>
internal sealed class PluginStateFile(string path)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public Dictionary<string, PluginState> Load()
    {
        if (!File.Exists(path))
        {
            return new(StringComparer.Ordinal);
        }

        try
        {
            return new(JsonSerializer.Deserialize<Dictionary<string, PluginState>>(File.ReadAllText(path), Json) ?? [], StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return new(StringComparer.Ordinal); // unreadable: everything off, which is the safe side
        }
    }

    public void Save(Dictionary<string, PluginState> states)
    {
        OwnerOnly.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        OwnerOnly.WriteAllText(temporary, JsonSerializer.Serialize(states, Json));
        File.Move(temporary, path, overwrite: true);
    }
}

internal sealed record PluginState(bool Enabled, IReadOnlyList<string> Granted, string? DisabledReason);
