namespace ConnText.Client.Auth;

/// <summary>
/// Hands out a valid access token for one account, refreshing it (with rotation) shortly before it expires or when the
/// server rejected it. One refresh at a time: two concurrent refreshes with the same rotated token would make the
/// server revoke the whole family.
/// </summary>
public sealed class TokenKeeper : IDisposable
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);
    private readonly TokenFile file;
    private readonly OAuthTokenClient oauth;
    private readonly TimeProvider time;
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private TokenSet? current;

    /// <summary>Creates the keeper of the tokens in <paramref name="file"/>.</summary>
    public TokenKeeper(TokenFile file, OAuthTokenClient oauth, TimeProvider time)
    {
        this.file = file;
        this.oauth = oauth;
        this.time = time;
        current = file.Read();
    }

    /// <summary>Whether there are tokens at all.</summary>
    public bool HasTokens => current is not null;

    /// <summary>A token that is valid for at least a little while.</summary>
    public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        var tokens = current ?? throw new SignInRequiredException("This account is signed out.");
        if (tokens.ExpiresAt - time.GetUtcNow() > Margin)
        {
            return tokens.AccessToken;
        }

        return await RefreshAsync(tokens.AccessToken, cancellationToken);
    }

    /// <summary>
    /// Refreshes unless someone already did since <paramref name="rejectedAccessToken"/> was handed out; returns the
    /// new access token.
    /// </summary>
    public async Task<string> RefreshAsync(string rejectedAccessToken, CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            var tokens = current ?? throw new SignInRequiredException("This account is signed out.");
            if (tokens.AccessToken != rejectedAccessToken && tokens.ExpiresAt - time.GetUtcNow() > Margin)
            {
                return tokens.AccessToken;
            }

            if (tokens.RefreshToken is null)
            {
                throw new SignInRequiredException("The session expired and there is no refresh token.");
            }

            var fresh = await oauth.RefreshAsync(tokens.RefreshToken, cancellationToken);
            file.Write(fresh);
            current = fresh;
            return fresh.AccessToken;
        }
        finally
        {
            refreshing.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => refreshing.Dispose();
}
