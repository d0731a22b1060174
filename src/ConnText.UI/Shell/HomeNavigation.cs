namespace ConnText.UI.Shell;

/// <summary>What the main screen's content pane shows besides the open conversation.</summary>
public enum HomePanel
{
    /// <summary>The open conversation (or the empty state).</summary>
    Conversation,

    /// <summary>Profile and settings of the selected account.</summary>
    Settings,

    /// <summary>Settings and members of the open group.</summary>
    GroupSettings,
}

/// <summary>
/// The main screen's navigation state for one window (scoped to the circuit), so components deep inside it (the chat
/// header, the account column) can open a panel without passing callbacks through every level.
/// </summary>
public sealed class HomeNavigation
{
    /// <summary>Raised after anything here changed.</summary>
    public event EventHandler? Changed;

    /// <summary>The panel shown in the content pane.</summary>
    public HomePanel Panel { get; private set; }

    /// <summary>The message to scroll to and highlight once its conversation shows (a search result), if any.</summary>
    public Guid? FocusMessageId { get; private set; }

    /// <summary>Shows <paramref name="panel"/>.</summary>
    public void Show(HomePanel panel)
    {
        Panel = panel;
        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Sets (or clears) the message to scroll to.</summary>
    public void Focus(Guid? messageId)
    {
        FocusMessageId = messageId;
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
