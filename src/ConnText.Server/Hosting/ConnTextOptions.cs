namespace ConnText.Server.Hosting;

/// <summary>Host-wide settings under <c>ConnText</c>. Features bind their own sections.</summary>
internal sealed class ConnTextOptions
{
    public const string Section = "ConnText";

    /// <summary>Shown to clients before login.</summary>
    public string Name { get; set; } = "ConnText";

    /// <summary>Holds the SQLite database, keys and files. Relative paths resolve against the working directory.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary><c>Text</c> (readable console, default) or <c>Json</c> (one JSON object per line).</summary>
    public string LogFormat { get; set; } = "Text";

    public LimitsOptions Limits { get; set; } = new();

    /// <summary>How long in-flight requests may run after a stop signal.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    public string ResolvedDataDirectory => Path.GetFullPath(DataDirectory);
}

internal sealed class LimitsOptions
{
    /// <summary>Largest request body any endpoint accepts unless it sets its own limit (uploads do).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    public int MaxRequestLineBytes { get; set; } = 8 * 1024;
}
