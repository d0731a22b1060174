namespace ConnText.Plugins.Misbehaving;

// Test fixtures (tests/ConnText.Desktop.Tests/Plugins): each is chosen with "entryType" in a manifest the test writes.

/// <summary>An outgoing hook that always throws.</summary>
public sealed class ThrowingPlugin : IPlugin
{
    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        context.AddOutgoingHook((_, _) => throw new InvalidOperationException("boom"));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>An outgoing hook that blocks its thread far longer than any hook timeout, ignoring cancellation.</summary>
public sealed class HangingPlugin : IPlugin
{
    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        context.AddOutgoingHook((message, _) =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(30));
            return ValueTask.FromResult(OutgoingDecision.Replace("hung " + message.Text));
        });
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>An activation that never finishes and ignores cancellation.</summary>
public sealed class StuckActivationPlugin : IPlugin
{
    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        Thread.Sleep(TimeSpan.FromSeconds(30));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>Asks for the network without the permission: activation must be refused at the API.</summary>
public sealed class GreedyPlugin : IPlugin
{
    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        using var http = context.CreateHttpClient();
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>Vetoes messages containing "secret".</summary>
public sealed class VetoPlugin : IPlugin
{
    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        context.AddOutgoingHook((message, _) => ValueTask.FromResult(message.Text.Contains("secret", StringComparison.OrdinalIgnoreCase)
            ? OutgoingDecision.Veto("it contains a secret")
            : OutgoingDecision.Keep));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
