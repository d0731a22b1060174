using ConnText.Plugins.Dice;
using ConnText.Plugins.Hosting;
using ConnText.Plugins.KeywordAlerts;
using ConnText.Plugins.TrackerLinks;

namespace ConnText.Desktop.Tests.Plugins;

/// <summary>The samples' logic, and the API version ranges of manifests.</summary>
public sealed class SamplePluginTests
{
    [Theory]
    [InlineData("2d6", 2, 6, 0)]
    [InlineData("d20+3", 1, 20, 3)]
    [InlineData("3D8 - 2", 3, 8, -2)]
    public void DiceRoll_TryParse_ReadsCountSidesModifier(string text, int count, int sides, int modifier)
    {
        Assert.True(DiceRoll.TryParse(text, out var roll));
        Assert.Equal(new DiceRoll(count, sides, modifier), roll);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2d1")]
    [InlineData("101d6")]
    [InlineData("two dice")]
    public void DiceRoll_TryParse_RefusesNonsense(string text) => Assert.False(DiceRoll.TryParse(text, out _));

    [Fact]
    public void DiceRoll_Throw_ShowsFacesAndTotal()
    {
        var faces = new Queue<int>([4, 2]);
        Assert.Equal("🎲 2d6+1: 4 + 2 + 1 = **7**", new DiceRoll(2, 6, 1).Throw((_, _) => faces.Dequeue()));
    }

    [Theory]
    [InlineData("fixes #12 and #7.", "fixes [#12](https://t.invalid/12) and [#7](https://t.invalid/7).")]
    [InlineData("see `#12` or a#12 or https://x.invalid/#12 or [#12](https://x.invalid)", "see `#12` or a#12 or https://x.invalid/#12 or [#12](https://x.invalid)")]
    [InlineData("no numbers", "no numbers")]
    public void IssueLinks_Apply_LinksStandaloneNumbersOnly(string text, string expected) =>
        Assert.Equal(expected, IssueLinks.Apply(text, "https://t.invalid/{id}"));

    [Fact]
    public void IssueLinks_Find_ListsEachNumberOnceOutsideCode() =>
        Assert.Equal(new[] { "#7: https://t.invalid/7", "#9: https://t.invalid/9" }, IssueLinks.Find("#7, `#8`, #9 and #7 again", "https://t.invalid/{id}"));

    [Theory]
    [InlineData("javascript:alert(1)//{id}")]
    [InlineData("https://t.invalid/")]
    [InlineData("https://t.invalid/{id}) [x](https://evil.invalid")]
    public void IssueLinks_Apply_RefusesUnsafeTemplates(string template) => Assert.Null(IssueLinks.Apply("#1", template));

    [Fact]
    public void Keywords_Matching_IgnoresCaseAndBlanks() =>
        Assert.Equal(new[] { "deploy", "Outage" }, Keywords.Matching("OUTAGE after the deploy", "deploy,\n Outage , ,lunch"));

    [Theory]
    [InlineData("[1.0.0, 2.0.0)", "1.0.0", true)]
    [InlineData("[1.0.0, 2.0.0)", "2.0.0", false)]
    [InlineData("1.0", "1.9.0", true)]
    [InlineData("1.1.0", "1.0.0", false)]
    [InlineData("[1.0.0, )", "7.0.0", true)]
    [InlineData("(1.0.0, 1.0.0]", "1.0.0", false)]
    public void ApiVersionRange_Contains(string range, string version, bool expected)
    {
        Assert.True(ApiVersionRange.TryParse(range, out var parsed));
        Assert.Equal(expected, parsed.Contains(Version.Parse(version)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("latest")]
    [InlineData("[2.0.0, 1.0.0)")]
    public void ApiVersionRange_TryParse_RefusesNonsense(string range) => Assert.False(ApiVersionRange.TryParse(range, out _));
}
