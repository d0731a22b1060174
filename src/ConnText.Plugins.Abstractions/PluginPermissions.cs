namespace ConnText.Plugins;

/// <summary>
/// The permissions a manifest can declare. Each capability of <see cref="IPluginContext"/> needs one; using a capability
/// the manifest does not declare throws <see cref="PluginPermissionException"/>. Logging needs none.
/// </summary>
public static class PluginPermissions
{
    /// <summary>Register slash commands (<see cref="IPluginContext.AddSlashCommand"/>).</summary>
    public const string Commands = "commands";

    /// <summary>See, change or stop the user's messages before they are sent (<see cref="IPluginContext.AddOutgoingHook"/>).</summary>
    public const string OutgoingMessages = "messages.outgoing";

    /// <summary>Read arriving messages and annotate them (<see cref="IPluginContext.AddIncomingHook"/>).</summary>
    public const string IncomingMessages = "messages.incoming";

    /// <summary>Send messages as the user (<see cref="IPluginContext.SendMessageAsync"/>).</summary>
    public const string SendMessages = "messages.send";

    /// <summary>Show notifications (<see cref="IPluginContext.NotifyAsync"/>).</summary>
    public const string Notifications = "notifications";

    /// <summary>Add a settings panel, composer buttons and message actions.</summary>
    public const string UserInterface = "ui";

    /// <summary>Keep key-value data (<see cref="IPluginContext.Storage"/>).</summary>
    public const string Storage = "storage";

    /// <summary>Make HTTP requests to other hosts (<see cref="IPluginContext.CreateHttpClient"/>).</summary>
    public const string Network = "network";

    /// <summary>Every permission, in the order the app lists them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Commands, OutgoingMessages, IncomingMessages, SendMessages, Notifications, UserInterface, Storage, Network];

    /// <summary>What a permission allows, in words shown to the user before enabling a plugin.</summary>
    /// <param name="permission">One of the constants of this class.</param>
    /// <returns>The description, or <see langword="null"/> for an unknown permission.</returns>
    public static string? Describe(string permission) => permission switch
    {
        Commands => "Add slash commands to the message box",
        OutgoingMessages => "Read, change or stop the messages you send",
        IncomingMessages => "Read the messages you receive and add notes to them",
        SendMessages => "Send messages in your name",
        Notifications => "Show notifications",
        UserInterface => "Add a settings panel, buttons and message actions",
        Storage => "Keep its own data on this device",
        Network => "Connect to other computers on the network or internet",
        _ => null,
    };
}
