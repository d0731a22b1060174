using System.Net;
using ConnText.Client.Auth;
using ConnText.Client.Devices;
using ConnText.Client.Sessions;
using ConnText.Desktop.Launch;
using ConnText.Desktop.Notifications;
using ConnText.Desktop.Plugins;
using ConnText.Desktop.Security;
using ConnText.Plugins.Hosting;
using ConnText.UI;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ConnText.Desktop.Hosting;

/// <summary>
/// The desktop host: a generic host (DI, logging, configuration) that owns the client engine for every account and
/// serves the Blazor UI on 127.0.0.1 at a random port behind <see cref="LocalAccessMiddleware"/>. The window is a
/// shell around it: closing it leaves the engine running until Quit.
/// </summary>
internal static partial class DesktopApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var app = Build(args);
        var options = app.Services.GetRequiredService<IOptions<DesktopOptions>>().Value;
        var dataDirectory = options.ResolveDataDirectory();

        using var instance = SingleInstance.TryAcquire(dataDirectory);
        if (instance is null)
        {
            // Another launch for this user: bring up its window and leave.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var answered = await SingleInstance.SignalRunningAsync(dataDirectory, timeout.Token);
            await Console.Error.WriteLineAsync(answered
                ? "ConnText is already running; its window was brought up."
                : "ConnText is already running for this data directory but does not answer.");
            await app.DisposeAsync();
            return answered ? 0 : 1;
        }

        await app.StartAsync();
        var window = app.Services.GetRequiredService<AppWindow>();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        window.Url = app.Services.GetRequiredService<LaunchSecret>().LaunchUrl(port);
        window.Open();
        var serving = instance.ServeAsync(window.Open);

        await app.WaitForShutdownAsync();
        window.Close();
        instance.Dispose();
        await serving;
        await app.DisposeAsync();
        return 0;
    }

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. args.Select(Expand)],
            ApplicationName = typeof(DesktopApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // The UI's static files come from the Razor class library; outside a publish, its manifest points at them.
        builder.WebHost.UseStaticWebAssets();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        builder.Services.AddOptions<DesktopOptions>().BindConfiguration(DesktopOptions.Section);
        builder.Services.AddSingleton<LaunchSecret>();
        builder.Services.AddSingleton<AppWindow>();
        builder.Services.AddSingleton<ISystemBrowser, SystemBrowser>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<DesktopOptions>>().Value;
            var dataDirectory = options.ResolveDataDirectory();
            return new AccountManager(
                dataDirectory,
                services.GetRequiredService<ISystemBrowser>(),
                services.GetRequiredService<ILoggerFactory>(),
                new AccountSessionOptions
                {
                    Time = services.GetRequiredService<TimeProvider>(),
                    // Created on first run; every account registers it as the device of its session.
                    Device = DeviceIdentity.LoadOrCreate(dataDirectory, Environment.MachineName),
                    OutgoingFilter = services.GetRequiredService<PluginHost>(),
                });
        });
        builder.Services.AddDesktopPlugins(); // before the engine: enabled plugins see the first messages
        builder.Services.AddHostedService<EngineService>();
        builder.Services.AddSingleton<IAppShell, DesktopShell>();
        builder.Services.AddSingleton(services => new UiPreferences
        {
            DefaultServer = services.GetRequiredService<IOptions<DesktopOptions>>().Value.DefaultServer ?? "",
        });
        builder.Services.AddConnTextUI();
        builder.Services.AddDesktopNotifications(builder.Configuration.GetSection(DesktopOptions.Section).Get<DesktopOptions>() ?? new DesktopOptions());
        builder.Services.AddOptions<CallSettings>().BindConfiguration(CallSettings.Section);

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();

        var app = builder.Build();
        app.UseMiddleware<LocalAccessMiddleware>();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapConnTextMedia();
        app.MapConnTextPeerTransfers();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Flags without values, as users type them, in the configuration's key=value form.</summary>
    private static string Expand(string arg) => arg switch
    {
        "--headless" => "--ConnText:Desktop:Headless=true",
        _ when arg.StartsWith("--data-dir=", StringComparison.Ordinal) => "--ConnText:Desktop:DataDirectory=" + arg["--data-dir=".Length..],
        _ when arg.StartsWith("--browser=", StringComparison.Ordinal) => "--ConnText:Desktop:Browser=" + arg["--browser=".Length..],
        _ => arg,
    };
}

/// <summary>Starts every saved account when the host starts; the manager stops them when the host disposes it.</summary>
internal sealed class EngineService(AccountManager accounts) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        accounts.Load();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>What the UI asks of the host: quitting (the window's close button only closes the window).</summary>
internal sealed class DesktopShell(IHostApplicationLifetime lifetime, AppWindow window) : IAppShell
{
    public void Quit()
    {
        window.Close();
        lifetime.StopApplication();
    }
}
