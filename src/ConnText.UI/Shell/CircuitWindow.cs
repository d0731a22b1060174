using Microsoft.AspNetCore.Components.Server.Circuits;

namespace ConnText.UI.Shell;

/// <summary>
/// What one window (one Blazor circuit) reports to <see cref="WindowActivity"/>, held per circuit. While the circuit's
/// connection to the window is down the window counts as closed, whatever it last reported. A closed window's circuit
/// is disposed only when the window's unload beacon arrives, or minutes later when the server gives the circuit up; a
/// window closed without that beacon (the beacon lost, the browser killed) would otherwise keep "the user is looking"
/// and hold back call and message notifications all that time.
/// </summary>
public sealed class CircuitWindow(WindowActivity activity)
{
    private readonly Lock gate = new();
    private readonly Dictionary<object, (bool Focused, Guid? AccountId, Guid? ConversationId)> reports = [];
    private bool connected = true;

    /// <summary>A page of this window reports its state (<see cref="WindowActivity.Report"/>).</summary>
    public void Report(object page, bool focused, Guid? accountId, Guid? conversationId)
    {
        lock (gate)
        {
            reports[page] = (focused, accountId, conversationId);
            if (connected)
            {
                activity.Report(page, focused, accountId, conversationId);
            }
        }
    }

    /// <summary>A page of this window went away.</summary>
    public void Remove(object page)
    {
        lock (gate)
        {
            reports.Remove(page);
            activity.Remove(page);
        }
    }

    internal void ConnectionDown()
    {
        lock (gate)
        {
            connected = false;
            foreach (var page in reports.Keys)
            {
                activity.Remove(page);
            }
        }
    }

    internal void ConnectionUp()
    {
        lock (gate)
        {
            connected = true;
            foreach (var (page, report) in reports)
            {
                activity.Report(page, report.Focused, report.AccountId, report.ConversationId);
            }
        }
    }
}

/// <summary>Tells the circuit's <see cref="CircuitWindow"/> when its connection to the window goes down and comes back.</summary>
internal sealed class CircuitWindowHandler(CircuitWindow window) : CircuitHandler
{
    public override Task OnConnectionDownAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        window.ConnectionDown();
        return Task.CompletedTask;
    }

    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        window.ConnectionUp();
        return Task.CompletedTask;
    }
}
