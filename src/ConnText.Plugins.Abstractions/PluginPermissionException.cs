namespace ConnText.Plugins;

/// <summary>Thrown when a plugin uses a capability whose permission its manifest does not declare.</summary>
public sealed class PluginPermissionException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="permission"/>.</summary>
    /// <param name="permission">The missing permission.</param>
    /// <param name="pluginId">The plugin that asked.</param>
    public PluginPermissionException(string permission, string pluginId)
        : base($"Plugin '{pluginId}' needs the '{permission}' permission for this; add it to plugin.json (the user is asked again).")
    {
        Permission = permission;
    }

    /// <summary>Creates the exception.</summary>
    public PluginPermissionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PluginPermissionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PluginPermissionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The permission that is missing, when known.</summary>
    public string? Permission { get; }
}
