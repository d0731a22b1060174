namespace ConnText.UI.Shell;

/// <summary>Display preferences shared by every window of this host.</summary>
public sealed class UiPreferences
{
    /// <summary>"auto" (follow the system), "light" or "dark".</summary>
    public string Theme { get; private set; } = "auto";

    /// <summary>The server address "Add account" suggests (the host's ConnText:Desktop:DefaultServer).</summary>
    public string DefaultServer { get; set; } = "";

    /// <summary>Raised after a preference changed.</summary>
    public event EventHandler? Changed;

    /// <summary>Chooses "auto", "light" or "dark".</summary>
    public void SetTheme(string theme)
    {
        Theme = theme is "light" or "dark" ? theme : "auto";
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
