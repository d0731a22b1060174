using ConnText.Client.Sessions;

namespace ConnText.UI.Components.Calls;

/// <summary>
/// Between the call buttons of a conversation and the window's <see cref="CallCenter"/> (one per circuit): the buttons ask
/// for a call, the center owns it and says which conversation has one.
/// </summary>
public sealed class CallRequests
{

    /// <summary>Raised when <see cref="Busy"/> changed.</summary>
    public event EventHandler? Changed;

    /// <summary>Whether this window is in a call, calling, or being called (the buttons are disabled then).</summary>
    public bool Busy { get; private set; }

    /// <summary>The conversation whose call rings here, if one does: its own buttons stay enabled and answer it.</summary>
    public Guid? Ringing { get; private set; }

    /// <summary>Whether a conversation's call buttons are disabled.</summary>
    public bool Disables(Guid conversationId) => Busy && Ringing != conversationId;

    /// <summary>Asks the center to start a call.</summary>
    public Task StartAsync(AccountSession session, Guid conversationId, string media) =>
        Starter?.Invoke(session, conversationId, media) ?? Task.CompletedTask;

    /// <summary>Set by the window's center: places a call (the account, the conversation, <c>audio</c> or <c>video</c>).</summary>
    internal Func<AccountSession, Guid, string, Task>? Starter { get; set; }

    internal void SetBusy(bool busy, Guid? ringing = null)
    {
        if (Busy != busy || Ringing != ringing)
        {
            Busy = busy;
            Ringing = ringing;
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }
}
