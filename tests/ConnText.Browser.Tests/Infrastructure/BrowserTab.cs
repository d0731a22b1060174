using Microsoft.Playwright;

namespace ConnText.Browser.Tests.Infrastructure;

/// <summary>
/// A fresh browser context (no cookies) with one page, which records what a developer would see in red in the
/// browser's console: console errors, uncaught script errors, and Content Security Policy violations.
/// </summary>
public sealed class BrowserTab : IAsyncDisposable
{
    // Injected through the DevTools protocol, so the pages' CSP (no scripts at all) does not block it. A violation
    // also shows as a console message, but only the event names the directive reliably.
    private const string ReportViolations = """
        document.addEventListener('securitypolicyviolation', e =>
            console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} on ${e.documentURI}`));
        """;

    private readonly List<string> problems = [];

    private BrowserTab(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error"
                || message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                Record($"console {message.Type} on {message.Page?.Url}: {message.Text} (at {message.Location})");
            }
        };
        page.PageError += (_, error) => Record($"page error on {page.Url}: {error}");
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Everything that went wrong in the page so far, one line each.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (problems)
            {
                return [.. problems];
            }
        }
    }

    public static async Task<BrowserTab> OpenAsync(Chromium chromium, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            ColorScheme = colorScheme,
            Locale = "en-US",
        });
        context.SetDefaultTimeout(15_000);
        await context.AddInitScriptAsync(ReportViolations);
        var page = await context.NewPageAsync();
        return new BrowserTab(context, page);
    }

    /// <summary>
    /// What the process serving the page logged, added to a failure's message (an unhandled exception on a Blazor
    /// circuit shows in the console only as "the circuit will be terminated"; its cause is in the server's log).
    /// </summary>
    public Func<string>? ServerLog { get; set; }

    /// <summary>Fails with every recorded problem listed, if there is any.</summary>
    public void AssertNoProblems(string where)
    {
        if (Problems.Count == 0)
        {
            return;
        }

        var log = ServerLog?.Invoke();
        Assert.Fail($"The browser reported problems {where}:\n" + string.Join('\n', Problems)
            + (string.IsNullOrEmpty(log) ? "" : "\nThe serving process logged:\n" + log));
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();

    private void Record(string problem)
    {
        lock (problems)
        {
            problems.Add(problem);
        }
    }
}
