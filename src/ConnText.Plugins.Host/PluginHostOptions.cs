namespace ConnText.Plugins.Hosting;

/// <summary>Settings of the plugin runtime (section <c>ConnText:Plugins</c>; see docs/plugins.md).</summary>
public sealed class PluginHostOptions
{
    public const string Section = "ConnText:Plugins";

    /// <summary>Where plugins are installed, one folder each (the host sets it to <c>{data}/plugins</c>).</summary>
    public string PluginsDirectory { get; set; } = "";

    /// <summary>Where <c>plugins.json</c> (enabled plugins) and each plugin's storage live (<c>{data}/plugin-data</c>).</summary>
    public string StateDirectory { get; set; } = "";

    /// <summary>How long a hook, command or message action may run before it counts as hung.</summary>
    public TimeSpan HookTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a plugin's activation or deactivation may run. Longer than <see cref="HookTimeout"/>: it runs once, off
    /// the message path, and includes loading the plugin's assemblies and compiling its code for the first time.
    /// </summary>
    public TimeSpan ActivationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>After this many failures (exceptions or timeouts) since it was enabled, a plugin is disabled.</summary>
    public int MaxFailures { get; set; } = 3;
}

/// <summary>How a plugin's <see cref="IPluginContext.SendMessageAsync"/> reaches the engine.</summary>
public interface IPluginMessenger
{
    /// <summary>Queues <paramref name="text"/> in the account that has the conversation; false when none has it.</summary>
    bool TrySend(Guid conversationId, string text);
}

/// <summary>Something a plugin added to the app, with the plugin it came from.</summary>
public sealed record PluginContribution<T>(string PluginId, string PluginName, T Item);
