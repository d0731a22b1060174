using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnText.Plugins;
using ConnText.Plugins.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnText.Desktop.Tests.Plugins;

/// <summary>The plugin runtime in-process, with the real sample and fixture plugins from their build output.</summary>
public sealed partial class PluginHostTests : IAsyncLifetime
{
    private static readonly Guid Conversation = Guid.NewGuid();
    private readonly string root = Directory.CreateTempSubdirectory("conntext-plugins-").FullName;
    private readonly List<PluginHost> hosts = [];

    private string PluginsDirectory => Path.Combine(root, "plugins");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task EnableAndDisable_Dice_LoadsActivatesRunsAndUnloads()
    {
        PluginFolders.Install(PluginsDirectory, PluginFolders.Dice);
        var host = await StartHostAsync();
        var dice = host.Plugins.Single();
        Assert.Equal(PluginStatus.Off, dice.Status); // off until the user enables it
        Assert.Empty(host.Commands);
        Assert.Equal("/roll 2d6", (await SendAsync(host, "/roll 2d6")).Text);

        // In methods of their own: a stack slot of this method must not keep a plugin object alive.
        var loadContext = await EnableUseAndDisableDiceAsync(host);
        Assert.Equal(PluginStatus.Off, dice.Status);
        Assert.Empty(host.Commands);
        Assert.Equal("/roll 2d6", (await SendAsync(host, "/roll 2d6")).Text);
        CollectUntilUnloaded(loadContext);
        Assert.False(loadContext.IsAlive, "the plugin's load context was not unloaded");
    }

    [Fact]
    public async Task Enable_RememberedAcrossRestarts_UntilTheManifestAsksForMore()
    {
        PluginFolders.Install(PluginsDirectory, PluginFolders.Dice);
        var first = await StartHostAsync();
        await first.EnableAsync("conntext.dice", CancellationToken.None);
        await first.DisposeAsync();

        var second = await StartHostAsync();
        Assert.Equal(PluginStatus.Enabled, second.Plugins.Single().Status);
        await second.DisposeAsync();

        // An update that asks for the network is not trusted with it silently.
        PluginFolders.Install(PluginsDirectory, PluginFolders.Dice, manifest: m => m["permissions"] = new JsonArray("commands", "ui", "network"));
        var third = await StartHostAsync();
        var dice = third.Plugins.Single();
        Assert.Equal(PluginStatus.Off, dice.Status);
        Assert.Contains("permissions you have not granted", dice.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingPermission_RefusedAtTheApi_PluginNotEnabled()
    {
        PluginFolders.InstallMisbehaving(PluginsDirectory, "greedy", "GreedyPlugin");
        // The dice register a composer button, which needs "ui".
        PluginFolders.Install(PluginsDirectory, PluginFolders.Dice, manifest: m => m["permissions"] = new JsonArray("commands"));
        var host = await StartHostAsync();

        Assert.False(await host.EnableAsync("greedy", CancellationToken.None));
        var greedy = host.Plugins.Single(p => p.Id == "greedy");
        Assert.Equal(PluginStatus.Failed, greedy.Status);
        Assert.Contains("needs the 'network' permission", greedy.Problem, StringComparison.Ordinal);

        Assert.False(await host.EnableAsync("conntext.dice", CancellationToken.None));
        Assert.Contains("needs the 'ui' permission", host.Plugins.Single(p => p.Id == "conntext.dice").Problem, StringComparison.Ordinal);
        Assert.Empty(host.Commands); // what it registered before the refusal is gone with it
    }

    [Fact]
    public async Task ThrowingHook_MessagesStillGo_PluginDisabledAfterThreeFailures()
    {
        PluginFolders.InstallMisbehaving(PluginsDirectory, "thrower", "ThrowingPlugin", PluginPermissions.OutgoingMessages);
        var host = await StartHostAsync();
        Assert.True(await host.EnableAsync("thrower", CancellationToken.None));

        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal($"hello {i}", (await SendAsync(host, $"hello {i}")).Text);
        }

        var thrower = host.Plugins.Single();
        Assert.Equal(PluginStatus.Failed, thrower.Status);
        Assert.Contains("Disabled after 3 failures", thrower.Problem, StringComparison.Ordinal);
        Assert.Contains("boom", thrower.Problem, StringComparison.Ordinal);
        Assert.Contains(host.Notices, n => n.IsProblem && n.PluginId == "thrower");
        Assert.Equal("hello 4", (await SendAsync(host, "hello 4")).Text);
        Assert.Equal(3, thrower.Failures); // not called any more

        await host.DisposeAsync();
        var restarted = await StartHostAsync();
        Assert.Equal(PluginStatus.Failed, restarted.Plugins.Single().Status); // and the reason survives a restart
        Assert.Contains("boom", restarted.Plugins.Single().Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HangingHook_TimesOut_MessagesStillGo_PluginDisabled()
    {
        PluginFolders.InstallMisbehaving(PluginsDirectory, "sleeper", "HangingPlugin", PluginPermissions.OutgoingMessages);
        // Only the hook gets 300 ms: activation (loading the plugin's assembly, a cold JIT) keeps its own budget.
        var host = await StartHostAsync(hookTimeout: TimeSpan.FromMilliseconds(300));
        Assert.True(await host.EnableAsync("sleeper", CancellationToken.None));

        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal($"hello {i}", (await SendAsync(host, $"hello {i}")).Text); // the hook's late "hung …" never lands
        }

        var sleeper = host.Plugins.Single();
        Assert.Equal(PluginStatus.Failed, sleeper.Status);
        Assert.Contains("did not finish within 0.3 s", sleeper.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StuckActivation_TimesOut_PluginFailedAndOff_MessagesUntouched()
    {
        PluginFolders.InstallMisbehaving(PluginsDirectory, "stuck", "StuckActivationPlugin");
        var host = await StartHostAsync(activationTimeout: TimeSpan.FromMilliseconds(500));

        var started = Stopwatch.GetTimestamp();
        Assert.False(await host.EnableAsync("stuck", CancellationToken.None));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "the caller waited for the stuck activation");

        var stuck = host.Plugins.Single();
        Assert.Equal(PluginStatus.Failed, stuck.Status);
        Assert.Equal("Could not start: activation did not finish within 0.5 s", stuck.Problem);
        Assert.Equal("hello", (await SendAsync(host, "hello")).Text);

        await host.DisposeAsync();
        var restarted = await StartHostAsync();
        Assert.Equal(PluginStatus.Failed, restarted.Plugins.Single().Status); // not enabled again on the next start
    }

    [Fact]
    public async Task Veto_MessageRefusedWithTheReason()
    {
        PluginFolders.InstallMisbehaving(PluginsDirectory, "censor", "VetoPlugin", PluginPermissions.OutgoingMessages);
        var host = await StartHostAsync();
        await host.EnableAsync("censor", CancellationToken.None);

        var refused = await SendAsync(host, "the secret is 42");
        Assert.Null(refused.Text);
        Assert.Equal("Not sent: censor: it contains a secret", refused.Refusal);
        Assert.Equal("fine", (await SendAsync(host, "fine")).Text);
    }

    [Fact]
    public async Task IncompatibleApiVersion_RefusedWithAClearMessage()
    {
        PluginFolders.Install(PluginsDirectory, PluginFolders.Dice, manifest: m => m["apiRange"] = "[2.0.0, 3.0.0)");
        var host = await StartHostAsync();

        var dice = host.Plugins.Single();
        Assert.Equal(PluginStatus.Incompatible, dice.Status);
        Assert.Equal("Made for plugin API [2.0.0, 3.0.0); this ConnText provides API 1.0.0. Install a version of the plugin made for API 1.x.", dice.Problem);
        Assert.False(await host.EnableAsync("conntext.dice", CancellationToken.None));
        Assert.Null(host.LoadContextOf("conntext.dice"));
        Assert.Empty(host.Commands);
    }

    [Fact]
    public async Task InvalidManifest_ListedWithWhatIsWrong()
    {
        PluginFolders.Install(PluginsDirectory, PluginFolders.Dice, manifest: m => m["entryAssembly"] = "../../evil.dll");
        var host = await StartHostAsync();

        var entry = host.Plugins.Single();
        Assert.Equal(PluginStatus.Invalid, entry.Status);
        Assert.Contains("\"entryAssembly\"", entry.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeywordAlerts_SettingsPanelAndIncomingHook_NotifiesAndNotes()
    {
        PluginFolders.Install(PluginsDirectory, PluginFolders.KeywordAlerts);
        var host = await StartHostAsync();
        await host.EnableAsync("conntext.keyword-alerts", CancellationToken.None);
        var panel = Assert.Single(host.SettingsPanels("conntext.keyword-alerts"));
        Assert.Equal("keywords", Assert.Single(panel.Fields).Key);
        await host.SaveSettingAsync("conntext.keyword-alerts", "keywords", "deploy, Outage", CancellationToken.None);

        var quiet = new IncomingMessage(Conversation, Guid.NewGuid(), "ops", "Bob", "lunch?", DateTimeOffset.UnixEpoch);
        var loud = new IncomingMessage(Conversation, Guid.NewGuid(), "ops", "Bob", "OUTAGE after the deploy", DateTimeOffset.UnixEpoch);
        await host.OnIncomingAsync(quiet, CancellationToken.None);
        await host.OnIncomingAsync(loud, CancellationToken.None);

        Assert.Empty(host.Notes(quiet.MessageId));
        Assert.Equal("🔔 deploy, Outage", Assert.Single(host.Notes(loud.MessageId)).Text);
        var notice = Assert.Single(host.Notices);
        Assert.Equal("Bob mentioned deploy, Outage", notice.Title);
        Assert.Equal("in ops", notice.Body);
    }

    [Fact]
    public async Task TrackerLinks_TransformsIssueNumbersOnceConfigured()
    {
        PluginFolders.Install(PluginsDirectory, PluginFolders.TrackerLinks);
        var host = await StartHostAsync();
        await host.EnableAsync("conntext.tracker-links", CancellationToken.None);
        Assert.Equal("fixes #123", (await SendAsync(host, "fixes #123")).Text); // not configured yet

        await host.SaveSettingAsync("conntext.tracker-links", "trackerUrl", "https://tracker.invalid/issues/{id}", CancellationToken.None);
        Assert.Equal("fixes [#123](https://tracker.invalid/issues/123)", (await SendAsync(host, "fixes #123")).Text);
    }

    [Fact]
    public async Task Remove_DeletesTheFolderAndTheData()
    {
        var folder = PluginFolders.Install(PluginsDirectory, PluginFolders.TrackerLinks);
        var host = await StartHostAsync();
        await host.EnableAsync("conntext.tracker-links", CancellationToken.None);
        await host.SaveSettingAsync("conntext.tracker-links", "trackerUrl", "https://tracker.invalid/{id}", CancellationToken.None);
        Assert.True(Directory.Exists(Path.Combine(root, "plugin-data", "conntext.tracker-links")));

        await host.RemoveAsync("conntext.tracker-links", CancellationToken.None);
        Assert.Empty(host.Plugins);
        Assert.False(Directory.Exists(folder));
        Assert.False(Directory.Exists(Path.Combine(root, "plugin-data", "conntext.tracker-links")));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> EnableUseAndDisableDiceAsync(PluginHost host)
    {
        var dice = host.Plugins.Single();
        Assert.True(await host.EnableAsync("conntext.dice", CancellationToken.None));
        Assert.Equal(PluginStatus.Enabled, dice.Status);
        Assert.Equal("roll", Assert.Single(host.Commands).Item.Name);
        Assert.Matches(Rolled(), (await SendAsync(host, "/roll 3d6")).Text);
        Assert.Equal("🎲", Assert.Single(host.ComposerButtons).Item.Label);

        var loadContext = host.LoadContextOf("conntext.dice")!;
        await host.DisableAsync("conntext.dice", CancellationToken.None);
        return loadContext;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CollectUntilUnloaded(WeakReference loadContext)
    {
        for (var i = 0; i < 50 && loadContext.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private static Task<ConnText.Client.Sessions.OutgoingVerdict> SendAsync(PluginHost host, string text) =>
        host.BeforeSendAsync(Conversation, "test", text, CancellationToken.None);

    /// <summary>A host on the test's folders; activation keeps the default budget unless one is given.</summary>
    private async Task<PluginHost> StartHostAsync(TimeSpan? hookTimeout = null, TimeSpan? activationTimeout = null)
    {
        var host = new PluginHost(
            new PluginHostOptions
            {
                PluginsDirectory = PluginsDirectory,
                StateDirectory = Path.Combine(root, "plugin-data"),
                HookTimeout = hookTimeout ?? TimeSpan.FromSeconds(5),
                ActivationTimeout = activationTimeout ?? new PluginHostOptions().ActivationTimeout,
                MaxFailures = 3,
            },
            NullLoggerFactory.Instance);
        hosts.Add(host);
        await host.LoadAsync(CancellationToken.None);
        return host;
    }

    [GeneratedRegex(@"^🎲 3d6: [1-6] \+ [1-6] \+ [1-6] = \*\*([3-9]|1[0-8])\*\*$")]
    private static partial Regex Rolled();
}
