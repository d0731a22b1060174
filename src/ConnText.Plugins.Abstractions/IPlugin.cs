namespace ConnText.Plugins;

/// <summary>
/// A plugin's entry point: a public class with a public parameterless constructor in the manifest's entry assembly.
/// </summary>
/// <remarks>
/// The host creates one instance when the user enables the plugin (or at start when it was enabled before), calls
/// <see cref="ActivateAsync"/> once, and <see cref="DeactivateAsync"/> once when the plugin is disabled, removed or the
/// app quits. Everything registered through the context is dropped after deactivation, and the plugin's assemblies are
/// unloaded.
/// </remarks>
public interface IPlugin
{
    /// <summary>Registers what the plugin contributes. Runs with the host's hook timeout.</summary>
    /// <param name="context">The plugin's access to the app, limited to the permissions its manifest declares.</param>
    /// <param name="cancellationToken">Cancelled when the timeout passes.</param>
    /// <returns>A task that completes when the plugin is ready.</returns>
    ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken);

    /// <summary>Releases what the plugin holds (timers, HTTP clients). Runs with the host's hook timeout.</summary>
    /// <param name="cancellationToken">Cancelled when the timeout passes.</param>
    /// <returns>A task that completes when the plugin has stopped.</returns>
    ValueTask DeactivateAsync(CancellationToken cancellationToken);
}
