using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Desktop.Tests.Notifications;

/// <summary>A window whose connection to the host is down counts as closed, whatever it reported last.</summary>
public sealed class CircuitWindowTests
{
    private static readonly Guid Account = Guid.NewGuid();
    private static readonly Guid ConversationId = Guid.NewGuid();

    [Fact]
    public async Task ConnectionDown_TheWindowNoLongerCounts_UntilItComesBack()
    {
        var activity = new WindowActivity();
        var window = new CircuitWindow(activity);
        var handler = new CircuitWindowHandler(window);
        var page = new object();
        window.Report(page, focused: true, Account, ConversationId);
        Assert.True(activity.HasFocus);
        Assert.True(activity.IsShowing(Account, ConversationId));

        await handler.OnConnectionDownAsync(null!, CancellationToken.None);
        Assert.False(activity.HasWindow);
        Assert.False(activity.HasFocus);

        // A report arriving while the connection is down is kept for later, not shown.
        window.Report(page, focused: true, Account, null);
        Assert.False(activity.HasWindow);

        await handler.OnConnectionUpAsync(null!, CancellationToken.None);
        Assert.True(activity.HasFocus);
        Assert.False(activity.IsShowing(Account, ConversationId)); // the latest report, not the one before the drop
    }

    [Fact]
    public async Task RemovedPage_DoesNotComeBackWithTheConnection()
    {
        var activity = new WindowActivity();
        var window = new CircuitWindow(activity);
        var handler = new CircuitWindowHandler(window);
        var page = new object();
        window.Report(page, focused: true, Account, ConversationId);
        window.Remove(page);
        Assert.False(activity.HasWindow);

        await handler.OnConnectionDownAsync(null!, CancellationToken.None);
        await handler.OnConnectionUpAsync(null!, CancellationToken.None);
        Assert.False(activity.HasWindow);
    }

    [Fact]
    public void AddConnTextUI_GivesEachCircuitItsOwnWindow_AndItsHandler()
    {
        using var services = new ServiceCollection().AddConnTextUI().BuildServiceProvider();
        using var first = services.CreateScope();
        using var second = services.CreateScope();
        var handler = Assert.Single(first.ServiceProvider.GetServices<CircuitHandler>().OfType<CircuitWindowHandler>());
        Assert.NotNull(handler);
        Assert.NotSame(first.ServiceProvider.GetRequiredService<CircuitWindow>(), second.ServiceProvider.GetRequiredService<CircuitWindow>());
    }
}
