using System.Text.Json.Nodes;

namespace ConnText.Desktop.Tests.Plugins;

/// <summary>Installs the build output of a plugin project (plugins/…) into a plugins folder, as docs/plugins.md tells users to.</summary>
public static class PluginFolders
{
    public const string Dice = "ConnText.Plugins.Dice";
    public const string TrackerLinks = "ConnText.Plugins.TrackerLinks";
    public const string KeywordAlerts = "ConnText.Plugins.KeywordAlerts";
    public const string Misbehaving = "ConnText.Plugins.Misbehaving";

    /// <summary>plugins/{project}/bin/{Configuration}/net10.0/, built with the solution.</summary>
    public static string Output(string project)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testBin.Parent!.Name;
        var root = testBin.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "plugins", project, "bin", configuration, testBin.Name);
        return File.Exists(Path.Combine(path, "plugin.json")) ? path : throw new DirectoryNotFoundException("Build the solution first: " + path);
    }

    /// <summary>Copies <paramref name="project"/>'s output to <paramref name="pluginsDirectory"/>/<paramref name="folder"/>, editing plugin.json.</summary>
    public static string Install(string pluginsDirectory, string project, string? folder = null, Action<JsonObject>? manifest = null)
    {
        var source = Output(project);
        var target = Path.Combine(pluginsDirectory, folder ?? project);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        if (manifest is not null)
        {
            var path = Path.Combine(target, "plugin.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            manifest(json);
            File.WriteAllText(path, json.ToJsonString());
        }

        return target;
    }

    /// <summary>One of the fixture plugins of ConnText.Plugins.Misbehaving under its own id.</summary>
    public static string InstallMisbehaving(string pluginsDirectory, string id, string type, params string[] permissions) =>
        Install(pluginsDirectory, Misbehaving, id, m =>
        {
            m["id"] = id;
            m["name"] = id;
            m["entryType"] = "ConnText.Plugins.Misbehaving." + type;
            m["permissions"] = new JsonArray([.. permissions.Select(p => (JsonNode)p)]);
        });
}
