using ConnText.Server.Realtime;

namespace ConnText.Server.Tests.Realtime;

/// <summary>The per-connection hub call budget: a burst, then a steady rate, with no timer behind it.</summary>
public sealed class CallBudgetTests
{
    [Fact]
    public void Burst_ThenRefused_UntilTimeRefills()
    {
        var clock = new SteppedClock();
        var budget = new CallBudget(clock, perSecond: 4, burst: 3);

        Assert.True(budget.TryTake());
        Assert.True(budget.TryTake());
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());

        clock.Advance(TimeSpan.FromMilliseconds(200)); // 0.8 of a token
        Assert.False(budget.TryTake());
        clock.Advance(TimeSpan.FromMilliseconds(50)); // 1.0
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void LongIdle_RefillsOnlyUpToTheBurst()
    {
        var clock = new SteppedClock();
        var budget = new CallBudget(clock, perSecond: 10, burst: 2);
        Assert.True(budget.TryTake());
        Assert.True(budget.TryTake());

        clock.Advance(TimeSpan.FromHours(1));
        Assert.True(budget.TryTake());
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void RefusedCalls_DoNotSpendTheRefill()
    {
        var clock = new SteppedClock();
        var budget = new CallBudget(clock, perSecond: 2, burst: 1);
        Assert.True(budget.TryTake());
        for (var i = 0; i < 4; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            Assert.False(budget.TryTake());
        }

        clock.Advance(TimeSpan.FromMilliseconds(100)); // 500 ms in all: one token at 2 per second
        Assert.True(budget.TryTake());
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(-1, 5)]
    public void NonPositiveSettings_AreRefused(int perSecond, int burst) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CallBudget(TimeProvider.System, perSecond, burst));

    private sealed class SteppedClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
