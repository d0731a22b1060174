using Microsoft.Extensions.DependencyInjection;

namespace ConnText.UI.Shell;

/// <summary>Registers what the UI's components need besides the engine and the shell.</summary>
public static class UIServiceCollectionExtensions
{
    /// <summary>Adds the UI's own services.</summary>
    public static IServiceCollection AddConnTextUI(this IServiceCollection services)
    {
        services.AddSingleton<UiPreferences>();
        return services;
    }
}
