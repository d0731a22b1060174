namespace ConnText.Plugins.Hosting;

/// <summary>Where a plugin stands.</summary>
public enum PluginStatus
{
    /// <summary>Installed, not enabled: nothing of it is loaded.</summary>
    Off,

    /// <summary>Loaded and active.</summary>
    Enabled,

    /// <summary>Disabled by the app because it failed (see <see cref="PluginEntry.Problem"/>); the user may enable it again.</summary>
    Failed,

    /// <summary>Built for plugin API versions this app does not provide; cannot be enabled.</summary>
    Incompatible,

    /// <summary>Its plugin.json is missing or wrong; cannot be enabled.</summary>
    Invalid,
}

/// <summary>A plugin found in the plugins folder, as the plugin manager shows it.</summary>
public sealed class PluginEntry
{
    internal PluginEntry(string id, string directory, PluginManifest? manifest)
    {
        Id = id;
        Directory = directory;
        Manifest = manifest;
    }

    /// <summary>The manifest's id (the folder's name when the manifest could not be read).</summary>
    public string Id { get; }

    public string Directory { get; }

    public PluginManifest? Manifest { get; }

    public string Name => Manifest?.Name ?? Id;

    public IReadOnlyList<string> Permissions => Manifest?.Permissions ?? [];

    public PluginStatus Status { get; internal set; }

    /// <summary>Why it is failed, incompatible or invalid, or the last hook failure while enabled.</summary>
    public string? Problem { get; internal set; }

    /// <summary>Hook failures (exceptions and timeouts) since it was last enabled.</summary>
    public int Failures { get; internal set; }

    internal PluginRuntime? Runtime { get; set; }
}

/// <summary>What an enabled plugin has loaded and registered; dropped as a whole when it is disabled.</summary>
internal sealed class PluginRuntime(PluginLoadContext loadContext)
{
    public PluginLoadContext LoadContext { get; } = loadContext;

    public IPlugin? Instance { get; set; }

    public PluginContext? Context { get; set; }

    public List<SlashCommand> Commands { get; } = [];

    public List<OutgoingMessageHook> OutgoingHooks { get; } = [];

    public List<IncomingMessageHook> IncomingHooks { get; } = [];

    public List<SettingsPanel> SettingsPanels { get; } = [];

    public List<ComposerButton> ComposerButtons { get; } = [];

    public List<MessageAction> MessageActions { get; } = [];

    /// <summary>Conversations the plugin was shown: the only ones it may send to.</summary>
    public HashSet<Guid> Conversations { get; } = [];
}
