namespace ConnText.Client.Auth;

/// <summary>
/// Opens a URL in the user's system browser (RFC 8252 §4: never a login form inside the app). The desktop host
/// implements it with the platform's opener; tests give one that drives a real browser.
/// </summary>
public interface ISystemBrowser
{
    /// <summary>Opens <paramref name="url"/>; returns once the browser was asked to, not when the user is done.</summary>
    Task OpenAsync(Uri url, CancellationToken cancellationToken);
}
