using ConnText.Plugins.Hosting;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>The plugins' buttons beside the message box; each puts its text into the draft.</summary>
public sealed partial class PluginComposerButtons : IDisposable
{
    [Parameter]
    public EventCallback<string> OnInsert { get; set; }

    [Inject]
    private PluginHost Plugins { get; set; } = null!;

    public void Dispose() => Plugins.Changed -= OnChanged;

    protected override void OnInitialized() => Plugins.Changed += OnChanged;

    private void OnChanged(object? sender, EventArgs e) => _ = InvokeAsync(StateHasChanged);
}
