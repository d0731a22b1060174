namespace ConnText.Server.AccessTokens;

/// <summary>Settings under <c>ConnText:AccessTokens</c>.</summary>
internal sealed class AccessTokensOptions
{
    public const string Section = "ConnText:AccessTokens";

    /// <summary>
    /// A token's "last used" time is written at most once in this many minutes: a bot reconnecting or calling in a loop
    /// must not turn every authentication (and every hub connect) into a database write.
    /// </summary>
    public int LastUsedWriteIntervalMinutes { get; set; } = 5;
}
