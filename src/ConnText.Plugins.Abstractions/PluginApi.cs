namespace ConnText.Plugins;

/// <summary>The version of the plugin API this assembly provides.</summary>
/// <remarks>
/// Semantic versioning: a plugin built against <c>1.x</c> runs on every host with API <c>1.y</c> where <c>y ≥ x</c>
/// (additions only); a new major version removes or changes something. A plugin declares the range it accepts in its
/// manifest (<c>apiRange</c>, for example <c>[1.0.0, 2.0.0)</c>), and the host refuses a plugin whose range does not
/// contain <see cref="Version"/>.
/// </remarks>
public static class PluginApi
{
    /// <summary>The API version, <c>major.minor.patch</c>.</summary>
    public const string Version = "1.0.0";
}
