namespace ConnText.Contracts.Server;

/// <summary>What a client needs to know about a server before signing in.</summary>
/// <param name="Name">The display name the operator gave this server.</param>
/// <param name="Version">The server software version.</param>
/// <param name="ProtocolVersion">The version of the REST and hub protocol (<see cref="Protocol.Version"/>).</param>
/// <param name="RegistrationMode">How new accounts are created: <c>open</c>, <c>invite</c> or <c>closed</c>.</param>
public sealed record ServerInfoResponse(string Name, string Version, int ProtocolVersion, string RegistrationMode);

/// <summary>Protocol constants shared by server and clients.</summary>
public static class Protocol
{
    /// <summary>The current protocol version; raised on every incompatible change.</summary>
    public const int Version = 1;
}

/// <summary>The answer of the health endpoints.</summary>
/// <param name="Status"><c>Healthy</c>, <c>Degraded</c> or <c>Unhealthy</c>.</param>
/// <param name="Checks">Each check's name and status.</param>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string> Checks);
