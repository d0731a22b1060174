using System.Reflection;
using System.Runtime.CompilerServices;
using ConnText.Client.Auth;
using ConnText.Client.Sessions;
using ConnText.Contracts.Conversations;
using Microsoft.Extensions.Logging;

namespace ConnText.Plugins.Hosting;

/// <summary>
/// Finds the plugins in the plugins folder, loads each enabled one into its own collectible load context, and runs
/// their hooks and commands with a timeout and exception isolation: a hook that throws or hangs costs its caller at
/// most <see cref="PluginHostOptions.HookTimeout"/>, the message goes on, and after
/// <see cref="PluginHostOptions.MaxFailures"/> failures the plugin is disabled with the reason shown (docs/adr/0016).
/// </summary>
public sealed partial class PluginHost : IOutgoingFilter, IAsyncDisposable
{
    private const int MaxNotices = 20;
    private const int MaxNotedMessages = 1000;
    private readonly PluginHostOptions options;
    private readonly ILoggerFactory loggers;
    private readonly ILogger logger;
    private readonly PluginStateFile stateFile;
    private readonly Lock gate = new();
    private readonly SemaphoreSlim lifecycle = new(1, 1);
    private readonly List<PluginEntry> entries = [];
    private readonly List<PluginNotice> notices = [];
    private readonly Dictionary<Guid, List<MessageNote>> notes = [];
    private readonly Queue<Guid> notedOrder = new();
    private Dictionary<string, PluginState> states = new(StringComparer.Ordinal);

    public PluginHost(PluginHostOptions options, ILoggerFactory loggers)
    {
        this.options = options;
        this.loggers = loggers;
        logger = loggers.CreateLogger<PluginHost>();
        stateFile = new PluginStateFile(Path.Combine(options.StateDirectory, "plugins.json"));
    }

    /// <summary>Raised (on any thread) when a plugin, a notice or a note changed.</summary>
    public event EventHandler? Changed;

    /// <summary>Where the engine's sending is reached from <see cref="IPluginContext.SendMessageAsync"/>.</summary>
    public IPluginMessenger? Messenger { get; set; }

    public string PluginsDirectory => options.PluginsDirectory;

    public IReadOnlyList<PluginEntry> Plugins
    {
        get
        {
            lock (gate)
            {
                return [.. entries];
            }
        }
    }

    /// <summary>The latest notices, oldest first.</summary>
    public IReadOnlyList<PluginNotice> Notices
    {
        get
        {
            lock (gate)
            {
                return [.. notices];
            }
        }
    }

    public IReadOnlyList<PluginContribution<SlashCommand>> Commands => Contributions(r => r.Commands);

    public IReadOnlyList<PluginContribution<ComposerButton>> ComposerButtons => Contributions(r => r.ComposerButtons);

    public IReadOnlyList<PluginContribution<MessageAction>> MessageActions => Contributions(r => r.MessageActions);

    /// <summary>Scans the plugins folder for plugins not seen yet and starts those the user enabled before.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await lifecycle.WaitAsync(cancellationToken);
        try
        {
            OwnerOnly.CreateDirectory(options.PluginsDirectory);
            states = stateFile.Load();
            foreach (var directory in Directory.GetDirectories(options.PluginsDirectory).Order(StringComparer.Ordinal))
            {
                if (Plugins.Any(p => p.Directory == directory))
                {
                    continue;
                }

                var entry = Inspect(directory);
                lock (gate)
                {
                    entries.Add(entry);
                }

                if (entry.Status != PluginStatus.Off || !states.TryGetValue(entry.Id, out var state))
                {
                    continue;
                }

                if (state.Enabled && entry.Permissions.All(state.Granted.Contains))
                {
                    await ActivateAsync(entry, cancellationToken);
                }
                else if (state.Enabled)
                {
                    entry.Problem = "This version asks for permissions you have not granted: review them and enable it again.";
                }
                else if (state.DisabledReason is { } reason)
                {
                    entry.Status = PluginStatus.Failed;
                    entry.Problem = reason;
                }
            }
        }
        finally
        {
            lifecycle.Release();
            OnChanged();
        }
    }

    /// <summary>
    /// Enables a plugin with the permissions its manifest declares; the caller has shown them to the user, who agreed.
    /// Returns false (with <see cref="PluginEntry.Problem"/> set) when it cannot be loaded or its activation fails.
    /// </summary>
    public async Task<bool> EnableAsync(string id, CancellationToken cancellationToken)
    {
        await lifecycle.WaitAsync(cancellationToken);
        try
        {
            var entry = Find(id);
            if (entry is null || entry.Status is PluginStatus.Enabled or PluginStatus.Incompatible or PluginStatus.Invalid)
            {
                return entry?.Status == PluginStatus.Enabled;
            }

            SaveState(entry.Id, new PluginState(true, [.. entry.Permissions], null));
            return await ActivateAsync(entry, cancellationToken);
        }
        finally
        {
            lifecycle.Release();
            OnChanged();
        }
    }

    /// <summary>Disables a plugin: deactivates it, drops what it registered and unloads its assemblies.</summary>
    public async Task DisableAsync(string id, CancellationToken cancellationToken)
    {
        await lifecycle.WaitAsync(cancellationToken);
        try
        {
            var entry = Find(id);
            if (entry is null)
            {
                return;
            }

            SaveState(entry.Id, new PluginState(false, [], null));
            var runtime = Detach(entry, entry.Status is PluginStatus.Enabled or PluginStatus.Failed ? PluginStatus.Off : entry.Status, entry.Status == PluginStatus.Failed ? null : entry.Problem);
            if (runtime is not null)
            {
                await StopAsync(entry, runtime);
            }
        }
        finally
        {
            lifecycle.Release();
            OnChanged();
        }
    }

    /// <summary>Disables a plugin and deletes its folder and its stored data.</summary>
    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        await DisableAsync(id, cancellationToken);
        await lifecycle.WaitAsync(cancellationToken);
        try
        {
            var entry = Find(id);
            if (entry is null)
            {
                return;
            }

            lock (gate)
            {
                entries.Remove(entry);
            }

            states.Remove(entry.Id);
            stateFile.Save(states);
            Directory.Delete(entry.Directory, recursive: true);
            var data = Path.Combine(options.StateDirectory, entry.Id);
            if (entry.Manifest is not null && Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
        finally
        {
            lifecycle.Release();
            OnChanged();
        }
    }

    /// <summary>The settings panels of an enabled plugin.</summary>
    public IReadOnlyList<SettingsPanel> SettingsPanels(string id)
    {
        lock (gate)
        {
            return Find(id)?.Runtime is { } runtime ? [.. runtime.SettingsPanels] : [];
        }
    }

    /// <summary>A value the user saved in a plugin's settings panel.</summary>
    public string? Setting(string id, string key) => Storage(id)?.GetValue(key);

    /// <summary>Saves a value from a plugin's settings panel into its storage.</summary>
    public async Task SaveSettingAsync(string id, string key, string? value, CancellationToken cancellationToken)
    {
        if (Storage(id) is { } storage)
        {
            await storage.SetValueAsync(key, string.IsNullOrEmpty(value) ? null : value, cancellationToken);
        }
    }

    public void Dismiss(Guid noticeId)
    {
        lock (gate)
        {
            notices.RemoveAll(n => n.Id == noticeId);
        }

        OnChanged();
    }

    /// <summary>The plugins' notes under a message.</summary>
    public IReadOnlyList<MessageNote> Notes(Guid messageId)
    {
        lock (gate)
        {
            return notes.TryGetValue(messageId, out var list) ? [.. list] : [];
        }
    }

    /// <summary>
    /// The send path: a slash command a plugin registered runs first (its message replaces the command), then every
    /// outgoing hook in turn. A hook that fails is skipped, so the message still goes.
    /// </summary>
    public async Task<OutgoingVerdict> BeforeSendAsync(Guid conversationId, string conversationName, string text, CancellationToken cancellationToken)
    {
        if (text.StartsWith('/'))
        {
            var space = text.IndexOfAny([' ', '\n', '\t']);
            var name = space < 0 ? text[1..] : text[1..space];
            var arguments = space < 0 ? "" : text[(space + 1)..].Trim();
            var found = Active(r => r.Commands).FirstOrDefault(c => string.Equals(c.Item.Name, name, StringComparison.OrdinalIgnoreCase));
            if (found.Entry is not null)
            {
                Remember(found.Runtime, conversationId);
                var outcome = await GuardAsync(found.Entry, "/" + name,
                    ct => found.Item.Handler(new SlashCommandInvocation(conversationId, found.Item.Name, arguments), ct));
                if (!outcome.Succeeded)
                {
                    AddNotice(new PluginNotice(found.Entry.Id, found.Entry.Name, "/" + name + " failed", outcome.Error!, true));
                    return OutgoingVerdict.Handled;
                }

                var result = outcome.Value ?? SlashCommandResult.None;
                if (result.Notice is { } notice)
                {
                    AddNotice(new PluginNotice(found.Entry.Id, found.Entry.Name, "/" + name, notice, false));
                }

                if (string.IsNullOrWhiteSpace(result.Message))
                {
                    return OutgoingVerdict.Handled;
                }

                text = result.Message;
            }
        }

        foreach (var (entry, runtime, hook) in Active(r => r.OutgoingHooks))
        {
            Remember(runtime, conversationId);
            var current = new OutgoingMessage(conversationId, conversationName, text);
            var outcome = await GuardAsync(entry, "outgoing hook", ct => hook(current, ct));
            if (!outcome.Succeeded || outcome.Value is not { } decision)
            {
                continue;
            }

            if (decision.VetoReason is { } reason)
            {
                return OutgoingVerdict.Refuse($"Not sent: {entry.Name}: {reason}");
            }

            if (!string.IsNullOrEmpty(decision.Text))
            {
                text = decision.Text;
            }
        }

        return OutgoingVerdict.Send(text);
    }

    /// <inheritdoc/>
    public async ValueTask<OutgoingVerdict> FilterAsync(AccountSession session, Guid conversationId, string text, CancellationToken cancellationToken)
    {
        var conversation = session.Store.Conversation(conversationId)?.Conversation;
        var name = conversation is null ? "" : ConversationName(conversation, session.Account.UserId);
        return await BeforeSendAsync(conversationId, name, text, cancellationToken);
    }

    /// <summary>Runs every incoming hook on a new message from someone else; their notes show under it.</summary>
    public async Task OnIncomingAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        foreach (var (entry, runtime, hook) in Active(r => r.IncomingHooks))
        {
            Remember(runtime, message.ConversationId);
            var outcome = await GuardAsync(entry, "incoming hook", ct => hook(message, ct));
            if (outcome.Succeeded && !string.IsNullOrWhiteSpace(outcome.Value))
            {
                AddNote(message.MessageId, new MessageNote(entry.Id, entry.Name, Truncate(outcome.Value, 300)));
            }
        }
    }

    /// <summary>Runs a plugin's message action that the user chose on a message.</summary>
    public async Task RunMessageActionAsync(PluginContribution<MessageAction> action, IncomingMessage message, CancellationToken cancellationToken)
    {
        var entry = Find(action.PluginId);
        if (entry?.Runtime is not { } runtime || entry.Status != PluginStatus.Enabled)
        {
            return;
        }

        Remember(runtime, message.ConversationId);
        var outcome = await GuardAsync(entry, action.Item.Label, ct => action.Item.Handler(message, ct));
        if (!outcome.Succeeded)
        {
            AddNotice(new PluginNotice(entry.Id, entry.Name, action.Item.Label + " failed", outcome.Error!, true));
        }
        else if (!string.IsNullOrWhiteSpace(outcome.Value))
        {
            AddNote(message.MessageId, new MessageNote(entry.Id, entry.Name, Truncate(outcome.Value, 300)));
        }
    }

    /// <summary>What a plugin is shown of a message from someone else: no ids of people, no account.</summary>
    public static IncomingMessage Describe(AccountSession session, MessageResponse message)
    {
        var conversation = session.Store.Conversation(message.ConversationId)?.Conversation;
        var sender = conversation?.Members.FirstOrDefault(m => m.UserId == message.SenderId)?.DisplayName ?? "Someone";
        var name = conversation is null ? "" : ConversationName(conversation, session.Account.UserId);
        return new IncomingMessage(message.ConversationId, message.Id, name, sender, message.Text ?? "", message.CreatedAt);
    }

    /// <summary>Deactivates every enabled plugin (the app quits; they stay enabled for the next start).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var entry in Plugins)
        {
            if (Detach(entry, PluginStatus.Off, null) is { } runtime)
            {
                await StopAsync(entry, runtime);
            }
        }

        lifecycle.Dispose();
    }

    /// <summary>For tests: the load context of an enabled plugin, held weakly.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal WeakReference? LoadContextOf(string id)
    {
        lock (gate)
        {
            return Find(id)?.Runtime is { } runtime ? new WeakReference(runtime.LoadContext) : null;
        }
    }

    internal void Register(PluginRuntime runtime, Action add)
    {
        lock (gate)
        {
            if (!entries.Any(e => e.Runtime == runtime))
            {
                throw new InvalidOperationException("The plugin is not active any more.");
            }

            add();
        }

        OnChanged();
    }

    internal void AddNotice(PluginNotice notice)
    {
        lock (gate)
        {
            notices.Add(notice);
            if (notices.Count > MaxNotices)
            {
                notices.RemoveAt(0);
            }
        }

        OnChanged();
    }

    private static string ConversationName(ConversationResponse conversation, Guid me)
    {
        if (!string.IsNullOrWhiteSpace(conversation.Title))
        {
            return conversation.Title;
        }

        var others = conversation.Members.Where(m => m.UserId != me).Select(m => m.DisplayName).ToList();
        return others.Count == 0 ? "Just you" : string.Join(", ", others);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private static void Remember(PluginRuntime runtime, Guid conversationId)
    {
        lock (runtime.Conversations)
        {
            runtime.Conversations.Add(conversationId);
        }
    }

    private static Type FindEntryType(Assembly assembly, string? name)
    {
        if (name is not null)
        {
            var named = assembly.GetType(name, throwOnError: false);
            return named is not null && typeof(IPlugin).IsAssignableFrom(named) && !named.IsAbstract
                ? named
                : throw new InvalidOperationException($"\"entryType\" {name} is not a public IPlugin class in {assembly.GetName().Name}.");
        }

        var candidates = assembly.GetExportedTypes().Where(t => typeof(IPlugin).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        return candidates.Count == 1
            ? candidates[0]
            : throw new InvalidOperationException(candidates.Count == 0
                ? $"{assembly.GetName().Name} has no public class implementing IPlugin."
                : $"{assembly.GetName().Name} has several IPlugin classes: name one in \"entryType\".");
    }

    private PluginEntry Inspect(string directory)
    {
        PluginManifest manifest;
        try
        {
            manifest = PluginManifest.Read(directory);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return new PluginEntry(Path.GetFileName(directory), directory, null) { Status = PluginStatus.Invalid, Problem = ex.Message };
        }

        var entry = new PluginEntry(manifest.Id, directory, manifest);
        _ = ApiVersionRange.TryParse(manifest.ApiRange, out var range);
        if (!range!.Contains(ApiVersionRange.HostVersion))
        {
            entry.Status = PluginStatus.Incompatible;
            entry.Problem = $"Made for plugin API {range}; this ConnText provides API {PluginApi.Version}. " +
                $"Install a version of the plugin made for API {ApiVersionRange.HostVersion.Major}.x.";
        }
        else if (Find(manifest.Id) is { } other)
        {
            entry.Status = PluginStatus.Invalid;
            entry.Problem = $"The plugin in {other.Directory} has the same id.";
        }

        return entry;
    }

    private async Task<bool> ActivateAsync(PluginEntry entry, CancellationToken cancellationToken)
    {
        entry.Failures = 0;
        entry.Problem = null;
        var manifest = entry.Manifest!;
        var path = Path.Combine(entry.Directory, manifest.EntryAssembly);
        PluginRuntime? runtime = null;
        string? problem;
        try
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{manifest.EntryAssembly} is not in the plugin's folder.");
            }

            runtime = new PluginRuntime(new PluginLoadContext(entry.Id, path));
            var type = FindEntryType(runtime.LoadContext.LoadFromAssemblyPath(path), manifest.EntryType);
            runtime.Instance = (IPlugin)Activator.CreateInstance(type)!;
            runtime.Context = new PluginContext(this, entry, runtime, Path.Combine(options.StateDirectory, entry.Id, "storage.json"),
                loggers.CreateLogger("ConnText.Plugins." + entry.Id));
            lock (gate)
            {
                entry.Runtime = runtime;
            }

            var instance = runtime.Instance;
            var context = runtime.Context;
            var outcome = await GuardAsync(entry, "activation", async ct =>
            {
                await instance.ActivateAsync(context, ct);
                return true;
            }, lifecycleStep: true);
            if (outcome.Succeeded)
            {
                entry.Status = PluginStatus.Enabled;
                LogEnabled(logger, entry.Id, manifest.Version);
                return true;
            }

            problem = "Could not start: " + outcome.Error;
        }
#pragma warning disable CA1031 // a plugin that cannot be loaded (bad image, missing dependency, throwing constructor) must not stop the app
        catch (Exception ex)
#pragma warning restore CA1031
        {
            problem = "Could not load: " + (ex is TargetInvocationException { InnerException: { } inner } ? inner.Message : ex.Message);
        }

        lock (gate)
        {
            entry.Runtime = null;
            entry.Status = PluginStatus.Failed;
            entry.Problem = problem;
        }

        LogFailedToStart(logger, entry.Id, problem);
        SaveState(entry.Id, new PluginState(false, [], problem));
        if (runtime is not null)
        {
            await StopAsync(entry, runtime, deactivate: false);
        }

        return false;
    }

    private async Task StopAsync(PluginEntry entry, PluginRuntime runtime, bool deactivate = true)
    {
        if (deactivate && runtime.Instance is { } instance)
        {
            await GuardAsync(entry, "deactivation", async ct =>
            {
                await instance.DeactivateAsync(ct);
                return true;
            }, lifecycleStep: true);
        }

        runtime.Context?.Close();
        lock (gate)
        {
            runtime.Commands.Clear();
            runtime.OutgoingHooks.Clear();
            runtime.IncomingHooks.Clear();
            runtime.SettingsPanels.Clear();
            runtime.ComposerButtons.Clear();
            runtime.MessageActions.Clear();
            runtime.Instance = null;
            runtime.Context = null;
        }

        // Completes once nothing references the plugin's types any more (a hook still hung keeps it loaded).
        runtime.LoadContext.Unload();
        LogUnloaded(logger, entry.Id);
    }

    /// <summary>Takes a plugin out of service at once: no hook of it is called after this returns.</summary>
    private PluginRuntime? Detach(PluginEntry entry, PluginStatus status, string? problem)
    {
        lock (gate)
        {
            var runtime = entry.Runtime;
            entry.Runtime = null;
            entry.Status = status;
            entry.Problem = problem;
            return runtime;
        }
    }

    private async Task<HookOutcome<T>> GuardAsync<T>(PluginEntry entry, string what, Func<CancellationToken, ValueTask<T>> hook, bool lifecycleStep = false)
    {
        // Activation and deactivation have their own budget and do not count as hook failures.
        var timeout = lifecycleStep ? options.ActivationTimeout : options.HookTimeout;
        using var cancel = new CancellationTokenSource(timeout);
        // Task.Run: a hook that blocks its thread (Thread.Sleep, synchronous I/O) must not block the caller with it.
        var running = Task.Run(async () => await hook(cancel.Token), CancellationToken.None);
        string error;
        try
        {
            return new HookOutcome<T>(true, await running.WaitAsync(timeout, CancellationToken.None), null);
        }
        catch (TimeoutException)
        {
            error = $"{what} did not finish within {timeout.TotalSeconds:0.#} s";
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            error = $"{what} did not finish within {timeout.TotalSeconds:0.#} s";
        }
#pragma warning disable CA1031 // exception isolation is the point: whatever a plugin throws stays with the plugin
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = $"{what} failed: {ex.GetType().Name}: {ex.Message}";
        }

        LogHookFailed(logger, entry.Id, error);
        if (!lifecycleStep)
        {
            RecordFailure(entry, error);
        }

        return new HookOutcome<T>(false, default, error);
    }

    private void RecordFailure(PluginEntry entry, string error)
    {
        PluginRuntime? runtime = null;
        string? reason = null;
        lock (gate)
        {
            entry.Failures++;
            entry.Problem = error;
            if (entry.Status == PluginStatus.Enabled && entry.Failures >= options.MaxFailures)
            {
                reason = $"Disabled after {entry.Failures} failures. Last: {error}.";
                runtime = entry.Runtime;
                entry.Runtime = null;
                entry.Status = PluginStatus.Failed;
                entry.Problem = reason;
            }
        }

        if (reason is not null)
        {
            LogDisabled(logger, entry.Id, reason);
            SaveState(entry.Id, new PluginState(false, [], reason));
            AddNotice(new PluginNotice(entry.Id, entry.Name, entry.Name + " was disabled", reason, true));
            if (runtime is not null)
            {
                _ = Task.Run(() => StopAsync(entry, runtime)); // not on the message path: deactivation has its own timeout
            }
        }

        OnChanged();
    }

    private void SaveState(string id, PluginState state)
    {
        lock (gate)
        {
            states[id] = state;
            try
            {
                stateFile.Save(states);
            }
            catch (IOException ex)
            {
                LogStateNotSaved(logger, ex);
            }
        }
    }

    private PluginStorage? Storage(string id)
    {
        lock (gate)
        {
            return Find(id)?.Runtime?.Context?.SettingsStorage;
        }
    }

    private PluginEntry? Find(string id)
    {
        lock (gate)
        {
            return entries.FirstOrDefault(e => e.Id == id && e.Manifest is not null);
        }
    }

    private List<(PluginEntry Entry, PluginRuntime Runtime, T Item)> Active<T>(Func<PluginRuntime, List<T>> select)
    {
        lock (gate)
        {
            return [.. entries
                .Where(e => e.Status == PluginStatus.Enabled && e.Runtime is not null)
                .SelectMany(e => select(e.Runtime!).Select(item => (e, e.Runtime!, item)))];
        }
    }

    private List<PluginContribution<T>> Contributions<T>(Func<PluginRuntime, List<T>> select) =>
        [.. Active(select).Select(a => new PluginContribution<T>(a.Entry.Id, a.Entry.Name, a.Item))];

    private void AddNote(Guid messageId, MessageNote note)
    {
        lock (gate)
        {
            if (!notes.TryGetValue(messageId, out var list))
            {
                notes[messageId] = list = [];
                notedOrder.Enqueue(messageId);
                if (notedOrder.Count > MaxNotedMessages)
                {
                    notes.Remove(notedOrder.Dequeue());
                }
            }

            list.RemoveAll(n => n.PluginId == note.PluginId && n.Text == note.Text);
            list.Add(note);
        }

        OnChanged();
    }

    private void OnChanged() => Changed?.Invoke(this, EventArgs.Empty);

    [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {PluginId} {Version} enabled")]
    private static partial void LogEnabled(ILogger logger, string pluginId, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {PluginId} unloaded")]
    private static partial void LogUnloaded(ILogger logger, string pluginId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {PluginId} could not start: {Problem}")]
    private static partial void LogFailedToStart(ILogger logger, string pluginId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {PluginId}: {Error}")]
    private static partial void LogHookFailed(ILogger logger, string pluginId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {PluginId} disabled: {Reason}")]
    private static partial void LogDisabled(ILogger logger, string pluginId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not save plugins.json")]
    private static partial void LogStateNotSaved(ILogger logger, Exception exception);

    private readonly record struct HookOutcome<T>(bool Succeeded, T? Value, string? Error);
}
