using System.Text.Json;
using ConnText.Client.Auth;

namespace ConnText.Plugins.Hosting;

/// <summary>A plugin's key-value data: one JSON file, owner-only, replaced atomically on each write.</summary>
internal sealed class PluginStorage(string path) : IPluginStorage
{
    private const int MaxKeyLength = 200;
    private const int MaxBytes = 1024 * 1024;
    private readonly Lock gate = new();
    private Dictionary<string, string>? values;

    public IReadOnlyCollection<string> Keys
    {
        get
        {
            lock (gate)
            {
                return [.. Values.Keys];
            }
        }
    }

    private Dictionary<string, string> Values => values ??= File.Exists(path)
        ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
        : [];

    public string? GetValue(string key)
    {
        lock (gate)
        {
            return Values.GetValueOrDefault(key);
        }
    }

    public ValueTask SetValueAsync(string key, string? value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"Keys are at most {MaxKeyLength} characters.", nameof(key));
        }

        lock (gate)
        {
            var next = new Dictionary<string, string>(Values, StringComparer.Ordinal);
            if (value is null)
            {
                next.Remove(key);
            }
            else
            {
                next[key] = value;
            }

            var json = JsonSerializer.Serialize(next);
            if (json.Length > MaxBytes)
            {
                throw new InvalidOperationException($"A plugin's storage is limited to {MaxBytes} bytes.");
            }

            OwnerOnly.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            OwnerOnly.WriteAllText(temporary, json);
            File.Move(temporary, path, overwrite: true);
            values = next;
        }

        return ValueTask.CompletedTask;
    }
}
