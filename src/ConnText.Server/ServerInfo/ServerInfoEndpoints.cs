using System.Reflection;
using ConnText.Contracts.Server;
using ConnText.Server.Accounts;
using ConnText.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnText.Server.ServerInfo;

internal static class ServerInfoEndpoints
{
    private static readonly string Version =
        typeof(ServerInfoEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static IServiceCollection AddServerInfo(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapServerInfoEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/server").WithTags("Server");
        group.MapGet("/", (IOptions<ConnTextOptions> host, IOptions<AccountsOptions> accounts) =>
                TypedResults.Ok(new ServerInfoResponse(
                    host.Value.Name,
                    Version,
                    Protocol.Version,
                    accounts.Value.RegistrationMode.ToString().ToLowerInvariant())))
            .WithName("GetServerInfo")
            .WithSummary("Describe this server")
            .WithDescription("Name, software and protocol version, and registration mode; what a client shows before sign-in.");
        return group;
    }
}
