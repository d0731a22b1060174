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

    /// <summary>Range checks that binding alone cannot do; each failure names its setting.</summary>
    public void Validate()
    {
        Require(Limits.MaxRequestBodyBytes is >= 1024 and <= 64L * 1024 * 1024 * 1024, "Limits:MaxRequestBodyBytes", "between 1024 and 68719476736");
        Require(Limits.MaxRequestHeadersTotalBytes is >= 4096 and <= 1024 * 1024, "Limits:MaxRequestHeadersTotalBytes", "between 4096 and 1048576");
        Require(Limits.MaxRequestLineBytes is >= 1024 and <= 1024 * 1024, "Limits:MaxRequestLineBytes", "between 1024 and 1048576");
        Require(ShutdownTimeoutSeconds is >= 0 and <= 3600, "ShutdownTimeoutSeconds", "between 0 and 3600");
        Require(!string.IsNullOrWhiteSpace(DataDirectory), "DataDirectory", "a directory path");
    }

    private static void Require(bool condition, string key, string expected)
    {
        if (!condition)
        {
            throw new StartupException($"{Section}:{key}", $"must be {expected}.");
        }
    }
}

internal sealed class LimitsOptions
{
    /// <summary>Largest request body any endpoint accepts unless it sets its own limit (uploads do).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    public int MaxRequestLineBytes { get; set; } = 8 * 1024;
}
