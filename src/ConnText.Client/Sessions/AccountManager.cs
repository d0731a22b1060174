using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ConnText.Client.Auth;
using ConnText.Contracts.Accounts;
using Microsoft.Extensions.Logging;

namespace ConnText.Client.Sessions;

/// <summary>
/// The accounts of this device, on any number of servers, each with its own running <see cref="AccountSession"/>.
/// The list lives in <c>accounts.json</c> in the data directory; each account's tokens and store in
/// <c>accounts/{id}/</c>.
/// </summary>
public sealed class AccountManager : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string dataDirectory;
    private readonly ISystemBrowser browser;
    private readonly ILoggerFactory loggers;
    private readonly AccountSessionOptions options;
    private readonly Lock gate = new();
    private readonly List<AccountSession> sessions = [];

    /// <summary>Creates the manager over <paramref name="dataDirectory"/>; call <see cref="Load"/> to start the saved accounts.</summary>
    public AccountManager(string dataDirectory, ISystemBrowser browser, ILoggerFactory loggers, AccountSessionOptions options)
    {
        this.dataDirectory = dataDirectory;
        this.browser = browser;
        this.loggers = loggers;
        this.options = options;
    }

    /// <summary>Raised (on any thread) when an account was added or removed, or anything in one changed.</summary>
    public event EventHandler? Changed;

    /// <summary>Where the accounts, their stores and received files live.</summary>
    public string DataDirectory => dataDirectory;

    /// <summary>Raised for each new message from someone else, in any account.</summary>
    public event EventHandler<MessageEventArgs>? MessageReceived;

    /// <summary>The running accounts, in the order they were added.</summary>
    public IReadOnlyList<AccountSession> Sessions
    {
        get
        {
            lock (gate)
            {
                return [.. sessions];
            }
        }
    }

    /// <summary>The name the server shows for sessions of this device.</summary>
    public string DeviceName { get; init; } = Environment.MachineName;

    private string ListPath => Path.Combine(dataDirectory, "accounts.json");

    /// <summary>Starts every saved account.</summary>
    public void Load()
    {
        if (!File.Exists(ListPath))
        {
            return;
        }

        var accounts = JsonSerializer.Deserialize<List<AccountInfo>>(File.ReadAllText(ListPath), Json) ?? [];
        foreach (var account in accounts)
        {
            StartSession(account);
        }
    }

    /// <summary>
    /// Adds an account: sign-in in the system browser against <paramref name="server"/> (RFC 8252), then the account
    /// starts. Signing in again to an account already here replaces its tokens.
    /// </summary>
    public async Task<AccountSession> AddAccountAsync(Uri server, CancellationToken cancellationToken)
    {
        server = new Uri(server.GetLeftPart(UriPartial.Authority) + "/");
        var tokens = await new LoopbackSignIn(browser, options.TokenHttp, options.Time).SignInAsync(server, DeviceName, cancellationToken);

        using var me = new HttpRequestMessage(HttpMethod.Get, new Uri(server, "/api/v1/me"));
        me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        using var response = await options.TokenHttp.SendAsync(me, cancellationToken);
        response.EnsureSuccessStatusCode();
        var profile = (await response.Content.ReadFromJsonAsync<ProfileResponse>(cancellationToken))!;

        AccountSession? existing;
        lock (gate)
        {
            existing = sessions.FirstOrDefault(s => s.Account.Server == server && s.Account.UserId == profile.Id);
        }

        if (existing is not null)
        {
            await RemoveSessionAsync(existing);
        }

        var account = new AccountInfo(existing?.Account.Id ?? Guid.NewGuid(), server, profile.Id, profile.Username, profile.DisplayName);
        new TokenFile(Path.Combine(AccountDirectory(account), "tokens.json")).Write(tokens);
        var session = StartSession(account);
        Save();
        return session;
    }

    /// <summary>Signs an account out on this device: stops it and deletes its tokens and local store.</summary>
    public async Task RemoveAccountAsync(Guid accountId)
    {
        AccountSession? session;
        lock (gate)
        {
            session = sessions.FirstOrDefault(s => s.Account.Id == accountId);
        }

        if (session is null)
        {
            return;
        }

        await RemoveSessionAsync(session);
        Save();
        Directory.Delete(AccountDirectory(session.Account), recursive: true);
        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var session in Sessions)
        {
            await session.DisposeAsync();
        }
    }

    private string AccountDirectory(AccountInfo account) => Path.Combine(dataDirectory, "accounts", account.Id.ToString("N"));

    private AccountSession StartSession(AccountInfo account)
    {
        var session = new AccountSession(account, AccountDirectory(account), options, loggers.CreateLogger<AccountSession>());
        session.Changed += (_, _) => Changed?.Invoke(this, EventArgs.Empty);
        session.MessageReceived += (_, message) => MessageReceived?.Invoke(this, message);
        session.AccountChanged += (_, _) => Save(); // a new display name survives a restart
        lock (gate)
        {
            sessions.Add(session);
        }

        session.Start();
        Changed?.Invoke(this, EventArgs.Empty);
        return session;
    }

    private async Task RemoveSessionAsync(AccountSession session)
    {
        lock (gate)
        {
            sessions.Remove(session);
        }

        await session.DisposeAsync();
    }

    private void Save()
    {
        OwnerOnly.CreateDirectory(dataDirectory);
        OwnerOnly.WriteAllText(ListPath, JsonSerializer.Serialize(Sessions.Select(s => s.Account).ToList(), Json));
    }
}
