using ConnText.Server.Hosting;

namespace ConnText.Server.Tests.Hosting;

/// <summary>ADR 0024: the shared byte-array pool is sized for fan-out unless the operator sized it.</summary>
public sealed class SharedBufferPoolTests
{
    [Fact]
    public void Configure_SetsTheRuntimeVariable_WhenUnset()
    {
        var environment = new Dictionary<string, string>();
        SharedBufferPool.Configure(environment.GetValueOrDefault, (name, value) => environment[name] = value);
        Assert.Equal("1024", environment["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"]);
    }

    [Theory]
    [InlineData("64")]
    [InlineData("4096")]
    public void Configure_KeepsTheOperatorsValue(string chosen)
    {
        var environment = new Dictionary<string, string> { [SharedBufferPool.Variable] = chosen };
        SharedBufferPool.Configure(environment.GetValueOrDefault, (name, value) => environment[name] = value);
        Assert.Equal(chosen, environment[SharedBufferPool.Variable]);
    }
}
