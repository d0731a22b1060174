using Microsoft.Playwright;

namespace ConnText.Browser.Tests.Infrastructure;

/// <summary>
/// One headless Chromium for the test run: the Debian package that scripts/test.sh installs (CONNTEXT_TEST_CHROMIUM),
/// driven by Playwright. Never a downloaded browser build. Each test opens its own context (<see cref="BrowserTab"/>),
/// so cookies and storage never leak from one test into another.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string Variable = "CONNTEXT_TEST_CHROMIUM";

    // As root, Chromium refuses to start without --no-sandbox. The rest keep it from calling home
    // (there is no network here, and a test must not wait on it).
    private static readonly string[] Arguments =
    [
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ];

    private IPlaywright? playwright;
    private IBrowser? browser;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("Chromium has not started.");

    public async Task InitializeAsync()
    {
        var path = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(path))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set. Run the tests with scripts/test.sh, which installs Chromium (Debian package 'chromium') and sets it.");
        }

        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{Variable} is '{path}', and no file is there. Install Debian's 'chromium' package.");
        }

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = Arguments,
        });
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }

        playwright?.Dispose();
    }

    /// <summary>
    /// Ports Chromium will not connect to (net/base/port_util.cc, "kRestrictedPorts"): a navigation there fails with
    /// ERR_UNSAFE_PORT. Ports the OS hands out are normally far above them; the check keeps a test from failing by chance.
    /// </summary>
    public static bool RefusesPort(int port) => UnsafePorts.Contains(port);

    private static readonly HashSet<int> UnsafePorts =
    [
        1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
        111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
        540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
        6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
    ];
}

[CollectionDefinition(Name)]
public sealed class ChromiumTestGroup : ICollectionFixture<Chromium>
{
    // One browser process for all browser tests, which therefore run one after the other (the machine has two cores).
    public const string Name = "Chromium";
}
