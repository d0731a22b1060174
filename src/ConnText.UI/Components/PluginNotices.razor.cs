using ConnText.Plugins.Hosting;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>Plugins' notifications and command notes, and the app's word about a plugin it disabled.</summary>
public sealed partial class PluginNotices : IDisposable
{
    [Inject]
    private PluginHost Plugins { get; set; } = null!;

    public void Dispose() => Plugins.Changed -= OnChanged;

    protected override void OnInitialized() => Plugins.Changed += OnChanged;

    private void OnChanged(object? sender, EventArgs e) => _ = InvokeAsync(StateHasChanged);
}
