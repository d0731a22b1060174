using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConnText.UI.Shell;

/// <summary>Registers what the UI's components need besides the engine and the shell.</summary>
public static class UIServiceCollectionExtensions
{
    /// <summary>Adds the UI's own services.</summary>
    public static IServiceCollection AddConnTextUI(this IServiceCollection services)
    {
        services.TryAddSingleton<WindowActivity>();
        services.TryAddScoped<CircuitWindow>(); // per window (circuit)
        services.TryAddEnumerable(ServiceDescriptor.Scoped<CircuitHandler, CircuitWindowHandler>());
        services.TryAddSingleton<UiPreferences>(); // the host may have registered its own, with its defaults
        services.TryAddScoped<Components.Calls.CallRequests>(); // per window (circuit)
        services.TryAddScoped<Components.Transfers.TransferRequests>();
        services.AddOptions<CallSettings>();
        services.TryAddScoped<HomeNavigation>();
        return services;
    }
}
