using ConnText.UI.Text;

namespace ConnText.Desktop.Tests.Text;

public sealed class MarkdownRendererTests
{
    [Theory]
    [InlineData("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;")]
    [InlineData("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;")]
    [InlineData("**bold** and *it* and _it_ and ~~gone~~", "<strong>bold</strong> and <em>it</em> and <em>it</em> and <del>gone</del>")]
    [InlineData("`<b>code</b>` **x**", "<code>&lt;b&gt;code&lt;/b&gt;</code> <strong>x</strong>")]
    [InlineData("a\nb", "a<br>b")]
    [InlineData("2*3*4", "2*3*4")]
    [InlineData("snake_case_name", "snake_case_name")]
    public void ToHtml_FormatsTheSubsetAndEncodesEverythingElse(string text, string html) =>
        Assert.Equal(html, MarkdownRenderer.ToHtml(text));

    [Fact]
    public void ToHtml_Link_OpensElsewhereWithoutAccessToTheApp()
    {
        Assert.Equal(
            "see <a href=\"https://example.org/?a=1&amp;b=2\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">the <strong>docs</strong></a>.",
            MarkdownRenderer.ToHtml("see [the **docs**](https://example.org/?a=1&b=2)."));
    }

    [Fact]
    public void ToHtml_BareUrl_IsLinkedWithoutTheSentencePunctuation() =>
        Assert.Equal(
            "go to <a href=\"https://example.org/x\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">https://example.org/x</a>.",
            MarkdownRenderer.ToHtml("go to https://example.org/x."));

    [Theory]
    [InlineData("[click](javascript:alert(1))")]
    [InlineData("[click](data:text/html,<script>alert(1)</script>)")]
    [InlineData("[x](https://a.example/\" onmouseover=\"alert(1))")]
    public void ToHtml_DangerousLinks_StayText(string text)
    {
        var html = MarkdownRenderer.ToHtml(text);
        Assert.DoesNotContain("href=\"javascript", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=\"data", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\" onmouseover", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_FencedCode_IsOnePreformattedBlockWithoutFormatting() =>
        Assert.Equal("before<pre><code>**not bold** &lt;b&gt;</code></pre>after",
            MarkdownRenderer.ToHtml("before\n```cs\n**not bold** <b>\n```\nafter"));

    [Fact]
    public void ToHtml_PlaceholderCharacterFromTheSender_CannotAddressFormattedFragments() =>
        Assert.Equal("<code>a</code> 0", MarkdownRenderer.ToHtml("`a` \u00010\u0001"));
}
