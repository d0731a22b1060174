using ConnText.Client.Sessions;
using ConnText.Contracts.Conversations;
using ConnText.Plugins;
using ConnText.Plugins.Hosting;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>The plugins' notes under a message, and their message actions.</summary>
public sealed partial class PluginMessageExtras : IDisposable
{
    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Parameter]
    [EditorRequired]
    public MessageResponse Message { get; set; } = null!;

    [Inject]
    private PluginHost Plugins { get; set; } = null!;

    /// <summary>Actions are offered on other people's messages only.</summary>
    private IReadOnlyList<PluginContribution<MessageAction>> Actions =>
        Message.SenderId == Session.Account.UserId ? [] : Plugins.MessageActions;

    public void Dispose() => Plugins.Changed -= OnChanged;

    protected override void OnInitialized() => Plugins.Changed += OnChanged;

    private void OnChanged(object? sender, EventArgs e) => _ = InvokeAsync(StateHasChanged);

    private Task RunAsync(PluginContribution<MessageAction> action) =>
        Plugins.RunMessageActionAsync(action, PluginHost.Describe(Session, Message), CancellationToken.None);
}
