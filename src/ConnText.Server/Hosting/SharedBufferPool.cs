namespace ConnText.Server.Hosting;

/// <summary>
/// Sizes .NET's shared byte-array pool for hub fan-out (ADR 0024). SignalR writes every delivery into its
/// connection's pipe, which rents a 4 KiB segment from <c>ArrayPool&lt;byte&gt;.Shared</c> and returns it once the
/// WebSocket has sent it. One message to a room of 100 rents 100 segments at once; the pool keeps only 32 arrays of a
/// size per core, so most segments were new arrays that became garbage on return: 62 % of what the server allocated
/// in a fan-out step (measured per step: 62–66 MB/s at 300 msg/s with .NET's default size, 23 MB/s with this one).
/// </summary>
internal static class SharedBufferPool
{
    /// <summary>The runtime's setting; it reads it once, when the pool is first used.</summary>
    public const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    /// <summary>
    /// Arrays of one size kept per core. Enough for the segments of a few hundred deliveries in flight per core; the
    /// pool keeps only arrays that were in use at the same time, and trims those left unused.
    /// </summary>
    public const int ArraysPerCore = 1024;

    /// <summary>
    /// Sets <see cref="Variable"/> unless the operator already has. Must run before anything rents from the shared pool:
    /// first thing in <c>Main</c>.
    /// </summary>
    public static void Configure() => Configure(Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);

    internal static void Configure(Func<string, string?> get, Action<string, string> set)
    {
        if (string.IsNullOrWhiteSpace(get(Variable)))
        {
            set(Variable, ArraysPerCore.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
