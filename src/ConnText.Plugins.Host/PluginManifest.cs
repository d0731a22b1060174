using System.Text.Json;
using System.Text.RegularExpressions;

namespace ConnText.Plugins.Hosting;

/// <summary>A plugin's <c>plugin.json</c>: who it is, which API versions it works with, what it asks to do.</summary>
public sealed partial class PluginManifest
{
    public const string FileName = "plugin.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public string Id { get; init; } = "";

    public string Name { get; init; } = "";

    public string Version { get; init; } = "";

    public string? Author { get; init; }

    public string? Description { get; init; }

    /// <summary>The plugin API versions it works with, e.g. <c>[1.0.0, 2.0.0)</c> (see <see cref="ApiVersionRange"/>).</summary>
    public string ApiRange { get; init; } = "";

    /// <summary>The assembly file (beside plugin.json) holding the <see cref="IPlugin"/> class.</summary>
    public string EntryAssembly { get; init; } = "";

    /// <summary>The full name of the <see cref="IPlugin"/> class; needed only when the assembly has several.</summary>
    public string? EntryType { get; init; }

    public IReadOnlyList<string> Permissions { get; init; } = [];

    /// <summary>Reads and checks <paramref name="directory"/>/plugin.json.</summary>
    /// <exception cref="InvalidDataException">Missing, unreadable or invalid; the message says what is wrong.</exception>
    public static PluginManifest Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"No {FileName} in {directory}.");
        }

        PluginManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<PluginManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{FileName} is not valid JSON: {ex.Message}", ex);
        }

        if (manifest is null)
        {
            throw new InvalidDataException($"{FileName} is empty.");
        }

        manifest.Validate();
        return manifest;
    }

    private void Validate()
    {
        if (!IdPattern().IsMatch(Id))
        {
            throw new InvalidDataException("\"id\" must be 1-64 lower-case letters, digits, '.' or '-', starting with a letter or digit.");
        }

        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            throw new InvalidDataException("\"name\" is required (at most 100 characters).");
        }

        if (!System.Version.TryParse(Version, out _))
        {
            throw new InvalidDataException("\"version\" must look like 1.2.3.");
        }

        if (!ApiVersionRange.TryParse(ApiRange, out _))
        {
            throw new InvalidDataException("\"apiRange\" must be a version range such as \"[1.0.0, 2.0.0)\" or a version such as \"1.0.0\" (meaning 1.x from 1.0.0).");
        }

        // A bare file name: the entry must not point outside the plugin's folder.
        if (string.IsNullOrWhiteSpace(EntryAssembly) || Path.GetFileName(EntryAssembly) != EntryAssembly
            || !EntryAssembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException("\"entryAssembly\" must be the name of a .dll file beside plugin.json.");
        }

        var unknown = Permissions.Where(p => PluginPermissions.Describe(p) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"Unknown permission(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", PluginPermissions.All)}.");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
