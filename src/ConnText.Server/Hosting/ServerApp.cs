using ConnText.Server.AccessTokens;
using ConnText.Server.Calls;
using ConnText.Server.Accounts;
using ConnText.Server.Admin;
using ConnText.Server.Conversations;
using ConnText.Server.Files;
using ConnText.Server.Messages;
using ConnText.Server.Presence;
using ConnText.Server.Profile;
using ConnText.Server.Realtime;
using ConnText.Server.Search;
using ConnText.Server.Accounts.Pages;
using ConnText.Server.Auth;
using ConnText.Server.Sessions;
using ConnText.Server.ApiDocs;
using ConnText.Server.Data;
using ConnText.Server.Errors;
using ConnText.Server.Health;
using ConnText.Server.ServerInfo;
using ConnText.Server.Telemetry;
using ConnText.Server.TwoFactor;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConnText.Server.Hosting;

/// <summary>Builds the server: services, Kestrel, and the request pipeline. Tests build it the same way.</summary>
internal static class ServerApp
{
    public const string DefaultUrl = "http://127.0.0.1:5180";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json sits beside the executable, so the server runs from any working directory.
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder);

        var options = builder.Configuration.BindSection<ConnTextOptions>(ConnTextOptions.Section);
        options.Validate();
        CheckDataDirectory(options);
        UseDefaultUrlWhenNoneConfigured(builder);
        builder.Services.Configure<ConnTextOptions>(builder.Configuration.GetSection(ConnTextOptions.Section));

        builder.AddConnTextLogging(options);
        ConfigureKestrel(builder, options);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));
        builder.Services.TryAddSingleton(TimeProvider.System);
        // Login cookies and antiforgery tokens survive restarts and work across nodes sharing the data directory.
        builder.Services.AddDataProtection()
            .SetApplicationName("ConnText")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(options.ResolvedDataDirectory, "keys", "data-protection")));

        builder.Services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);
            // Browsers ignore HSTS for IP literals (RFC 6797 8.1), so only localhost (where a sticky policy
            // would break other local development servers) stays excluded.
            o.ExcludedHosts.Clear();
            o.ExcludedHosts.Add("localhost");
        });
        builder.Services.AddProblemResponses();
        builder.Services.AddData(builder.Configuration, options);
        builder.Services.AddHealthEndpoints();
        builder.Services.AddApiDocs();
        builder.Services.AddTelemetry(builder.Configuration);
        builder.Services.AddServerInfo();
        builder.Services.AddAccounts(builder.Configuration);
        builder.Services.AddAuth(builder.Configuration, options);
        builder.Services.AddSessions();
        builder.Services.AddAuthRateLimits(builder.Configuration);
        builder.Services.AddAccessTokens(builder.Configuration);
        builder.Services.AddProfile();
        builder.Services.AddAdmin();
        builder.Services.AddTwoFactor();
        builder.Services.AddConversations(builder.Configuration);
        builder.Services.AddMessages();
        builder.Services.AddSearch(builder.Configuration);
        builder.Services.AddFiles(builder.Configuration);
        builder.Services.AddRealtime(builder.Configuration);
        builder.Services.AddPresence(builder.Configuration);
        builder.Services.AddCalls(builder.Configuration);
        builder.Services.AddRazorComponents();

        var app = builder.Build();

        app.UseProblemResponses();
        app.UseSecurityHeaders();
        if (HasHttpsEndpoint(app.Configuration))
        {
            app.UseHsts();
        }

        app.UseRealtimeHandshake();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();
        app.EndRealtimeHandshake();

        app.MapHealthEndpoints();
        app.MapAuthEndpoints();
        app.MapAccountPages();
        app.MapApiDocs();
        app.MapRootRedirect();
        app.MapTelemetry();
        var api = app.MapGroup("/api/v1");
        api.MapServerInfoEndpoints();
        api.MapAccountsEndpoints();
        api.MapSessionsEndpoints();
        api.MapAccessTokensEndpoints();
        api.MapProfileEndpoints();
        api.MapAdminEndpoints();
        api.MapTwoFactorEndpoints();
        api.MapConversationsEndpoints();
        api.MapMessagesEndpoints();
        api.MapPresenceEndpoints();
        api.MapSearchEndpoints();
        api.MapFilesEndpoints();
        api.MapCallsEndpoints();
        app.MapRealtimeEndpoints();

        return app;
    }

    /// <summary>Runs the start-up checks that must pass before the server accepts requests.</summary>
    public static async Task PrepareAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await DatabaseSetup.PrepareAsync(app.Services, cancellationToken);
        await DesktopClient.EnsureAsync(app.Services, cancellationToken);
        await RegisteredClients.EnsureAsync(app.Services, cancellationToken);
    }

    /// <summary>Starts Kestrel; a taken port or an unusable certificate becomes a start-up error naming the setting.</summary>
    public static async Task StartListeningAsync(WebApplication app)
    {
        try
        {
            await app.StartAsync();
        }
        catch (IOException ex) when (ex.InnerException is AddressInUseException)
        {
            throw new StartupException("Urls", $"cannot listen: {ex.Message} Choose a free address, e.g. --Urls=http://127.0.0.1:5181.", ex);
        }
        catch (Exception ex) when (ex is CryptographicException or FileNotFoundException or DirectoryNotFoundException
                                       or InvalidOperationException or IOException)
        {
            throw new StartupException("Kestrel:Endpoints", $"cannot set up an endpoint: {ex.Message}", ex);
        }
    }

    /// <summary>The data directory holds the database, keys and files: it must exist and be writable before anything else.</summary>
    private static void CheckDataDirectory(ConnTextOptions options)
    {
        var directory = options.ResolvedDataDirectory;
        try
        {
            Directory.CreateDirectory(directory);
            // Keys (token signing, data protection) are protected by file permissions: owner only.
            var keys = Path.Combine(directory, "keys");
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(keys);
            }
            else
            {
                Directory.CreateDirectory(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException("ConnText:DataDirectory",
                $"the data directory '{directory}' is not writable ({ex.Message}). Set ConnText:DataDirectory to a directory this user can write.", ex);
        }
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, ConnTextOptions options)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Limits.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = options.Limits.MaxRequestHeadersTotalBytes;
            kestrel.Limits.MaxRequestLineSize = options.Limits.MaxRequestLineBytes;
            kestrel.Limits.MaxRequestHeaderCount = 100;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
        });
    }

    /// <summary>
    /// 127.0.0.1:5180 unless the operator chose an address in any standard way (<c>Urls</c>,
    /// <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>/<c>HTTPS_PORTS</c>, <c>Kestrel:Endpoints</c>),
    /// so the usual container variables keep working.
    /// </summary>
    private static void UseDefaultUrlWhenNoneConfigured(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var configured = !string.IsNullOrEmpty(configuration["urls"])
            || !string.IsNullOrEmpty(configuration["http_ports"])
            || !string.IsNullOrEmpty(configuration["https_ports"])
            || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();
        if (!configured)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
    }

    private static bool HasHttpsEndpoint(IConfiguration configuration) =>
        configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Any(e => e["Url"]?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) == true)
        || (configuration["Urls"] ?? "").Contains("https:", StringComparison.OrdinalIgnoreCase);
}
