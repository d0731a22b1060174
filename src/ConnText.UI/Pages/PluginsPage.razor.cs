using ConnText.Plugins;
using ConnText.Plugins.Hosting;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Pages;

/// <summary>The plugin manager: installed plugins, enabling after showing the permissions, disabling, removing, errors, settings.</summary>
public sealed partial class PluginsPage : IDisposable
{
    private readonly Dictionary<(string Plugin, string Key), string> edits = [];
    private bool interactive;
    private string? confirming;
    private string? saved;

    [Inject]
    private PluginHost Plugins { get; set; } = null!;

    [Inject]
    private UiPreferences Preferences { get; set; } = null!;

    public void Dispose() => Plugins.Changed -= OnChanged;

    protected override void OnInitialized() => Plugins.Changed += OnChanged;

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            interactive = true;
            StateHasChanged();
        }
    }

    private static string StatusText(PluginStatus status) => status switch
    {
        PluginStatus.Enabled => "Enabled",
        PluginStatus.Failed => "Disabled after errors",
        PluginStatus.Incompatible => "Incompatible",
        PluginStatus.Invalid => "Invalid",
        _ => "Off",
    };

    private void OnChanged(object? sender, EventArgs e) => _ = InvokeAsync(StateHasChanged);

    private Task RescanAsync() => Plugins.LoadAsync(CancellationToken.None);

    private async Task EnableAsync(PluginEntry plugin)
    {
        confirming = null;
        await Plugins.EnableAsync(plugin.Id, CancellationToken.None);
    }

    private Task DisableAsync(PluginEntry plugin) => Plugins.DisableAsync(plugin.Id, CancellationToken.None);

    private Task RemoveAsync(PluginEntry plugin) => Plugins.RemoveAsync(plugin.Id, CancellationToken.None);

    private string Value(PluginEntry plugin, SettingField field) =>
        edits.TryGetValue((plugin.Id, field.Key), out var edited) ? edited : Plugins.Setting(plugin.Id, field.Key) ?? "";

    private void Edit(PluginEntry plugin, SettingField field, ChangeEventArgs e)
    {
        edits[(plugin.Id, field.Key)] = e.Value?.ToString() ?? "";
        saved = null;
    }

    private async Task SaveAsync(PluginEntry plugin, SettingsPanel panel)
    {
        foreach (var field in panel.Fields)
        {
            if (edits.Remove((plugin.Id, field.Key), out var value))
            {
                await Plugins.SaveSettingAsync(plugin.Id, field.Key, value, CancellationToken.None);
            }
        }

        saved = plugin.Id;
    }
}
