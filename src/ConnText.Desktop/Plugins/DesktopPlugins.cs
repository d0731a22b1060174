using ConnText.Client.Sessions;
using ConnText.Desktop.Hosting;
using ConnText.Plugins.Hosting;
using Microsoft.Extensions.Options;

namespace ConnText.Desktop.Plugins;

/// <summary>The plugin runtime in the desktop host: <c>{data}/plugins</c>, settings from <c>ConnText:Plugins</c>.</summary>
internal static class DesktopPlugins
{
    /// <summary>Registers the plugin host; its hosted service must start before the accounts do (it is added first).</summary>
    public static IServiceCollection AddDesktopPlugins(this IServiceCollection services)
    {
        services.AddOptions<PluginHostOptions>().BindConfiguration(PluginHostOptions.Section);
        services.AddSingleton(provider =>
        {
            var data = provider.GetRequiredService<IOptions<DesktopOptions>>().Value.ResolveDataDirectory();
            var configured = provider.GetRequiredService<IOptions<PluginHostOptions>>().Value;
            return new PluginHost(
                new PluginHostOptions
                {
                    PluginsDirectory = Path.Combine(data, "plugins"),
                    StateDirectory = Path.Combine(data, "plugin-data"),
                    HookTimeout = configured.HookTimeout,
                    ActivationTimeout = configured.ActivationTimeout,
                    MaxFailures = configured.MaxFailures,
                },
                provider.GetRequiredService<ILoggerFactory>());
        });
        services.AddHostedService<PluginService>();
        return services;
    }
}

/// <summary>
/// Connects the plugins to the engine: incoming messages of every account go to the incoming hooks, and plugins that
/// may send reach the account holding the conversation. (Outgoing messages reach them through
/// <see cref="AccountSessionOptions.OutgoingFilter"/>.)
/// </summary>
internal sealed class PluginService(PluginHost plugins, AccountManager accounts) : IHostedService, IPluginMessenger
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        plugins.Messenger = this;
        accounts.MessageReceived += OnMessageReceived;
        await plugins.LoadAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        accounts.MessageReceived -= OnMessageReceived;
        await plugins.DisposeAsync();
    }

    public bool TrySend(Guid conversationId, string text)
    {
        var session = accounts.Sessions.FirstOrDefault(s => s.Store.Conversation(conversationId) is not null);
        session?.Send(conversationId, text);
        return session is not null;
    }

    private void OnMessageReceived(object? sender, MessageEventArgs e)
    {
        // Raised on the engine's apply loop: the hooks run elsewhere, so a slow plugin never delays the next event.
        var message = PluginHost.Describe(e.Session, e.Message);
        _ = Task.Run(() => plugins.OnIncomingAsync(message, CancellationToken.None));
    }
}
