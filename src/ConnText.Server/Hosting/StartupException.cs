namespace ConnText.Server.Hosting;

/// <summary>
/// A misconfiguration found at start-up. The message names the setting and says what to change;
/// <see cref="ServerCommand"/> prints it alone (no stack trace) and exits with code 2.
/// </summary>
internal sealed class StartupException : Exception
{
    public StartupException(string setting, string message, Exception? inner = null)
        : base($"{setting}: {message}", inner) => Setting = setting;

    public StartupException()
    {
        Setting = "";
    }

    public StartupException(string message) : base(message)
    {
        Setting = "";
    }

    public StartupException(string message, Exception innerException) : base(message, innerException)
    {
        Setting = "";
    }

    public string Setting { get; }
}
