using ConnText.Client.Api;
using ConnText.Client.Sessions;
using ConnText.Client.Store;
using ConnText.Contracts.Conversations;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace ConnText.UI.Components;

/// <summary>One conversation: history with infinite scroll-back, composer, reply, edit, delete, reactions.</summary>
public sealed partial class ChatView : IAsyncDisposable
{
    private static readonly string[] QuickReactions = ["👍", "❤️", "😂"];

    private int limit = AccountSession.PageSize;
    private bool loading;
    private string draft = "";
    private MessageResponse? replyTo;
    private MessageResponse? editing;
    private string? actionError;
    private AttachmentPicker? attachments;
    private ElementReference historyTop;
    private IJSObjectReference? scrollBack;
    private DotNetObjectReference<ChatView>? self;
    private bool disposed;

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Parameter]
    public Guid ConversationId { get; set; }

    /// <summary>A message to bring into view and highlight (a search result).</summary>
    [Parameter]
    public Guid? FocusMessageId { get; set; }

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    private StoredConversation? Stored => Session.Store.Conversation(ConversationId);

    private IReadOnlyList<MessageResponse> Messages => Session.Store.Messages(ConversationId, limit);

    /// <summary>Whether older messages exist than those shown (stored here, or still on the server).</summary>
    private bool HasOlder => Stored is { } stored
        && !((stored.HistoryComplete || stored.Conversation.Kind == ConversationKinds.PeerToPeer) && Messages.Count < limit);

    private IEnumerable<OutboxEntry> Pending => Session.Store.Outbox().Where(e => e.ConversationId == ConversationId);

    protected override void OnParametersSet()
    {
        // Show enough history to include the message to focus (search works on everything stored, not only what shows).
        if (FocusMessageId is { } id && Session.Store.Message(id) is { } message && message.ConversationId == ConversationId)
        {
            limit = Math.Max(limit, Session.Store.CountFrom(ConversationId, message.Sequence));
        }
    }

    public async ValueTask DisposeAsync()
    {
        disposed = true;
        if (scrollBack is not null)
        {
            try
            {
                await scrollBack.InvokeVoidAsync("dispose");
                await scrollBack.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
                // The window is gone.
            }
        }

        self?.Dispose();
    }

    /// <summary>From scroll-back.js: the top of the history came into view; true while there is more to load.</summary>
    [JSInvokable]
    public async Task<bool> LoadOlderFromScroll()
    {
        if (loading || !HasOlder)
        {
            return false;
        }

        await LoadOlderAsync();
        StateHasChanged();
        return HasOlder;
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (scrollBack is null && !disposed && RendererInfo.IsInteractive && Stored is not null)
        {
            // The first render that shows the history (the conversation may arrive after the view opened).
            await ObserveHistoryTopAsync();
        }

        // Shown means read: the read marker follows what this view displayed.
        if (Stored is { Unread: > 0 })
        {
            await Session.MarkReadAsync(ConversationId, CancellationToken.None);
        }
    }

    private async Task ObserveHistoryTopAsync()
    {
        self ??= DotNetObjectReference.Create(this);
        try
        {
            await using var module = await JS.InvokeAsync<IJSObjectReference>("import", "./_content/ConnText.UI/scroll-back.js");

            // Null when the element left the page before the call arrived (another panel replaced the chat meanwhile).
            var observer = await module.InvokeAsync<IJSObjectReference?>("observe", historyTop, self);
            if (observer is not null && disposed)
            {
                await observer.InvokeVoidAsync("dispose");
                await observer.DisposeAsync();
                return;
            }

            scrollBack = observer;
        }
        catch (JSDisconnectedException)
        {
            // The window is gone.
        }
    }

    private async Task LoadOlderAsync()
    {
        loading = true;
        try
        {
            if (Session.Store.Messages(ConversationId, limit + AccountSession.PageSize).Count <= limit)
            {
                await Session.LoadOlderAsync(ConversationId, CancellationToken.None);
            }

            limit += AccountSession.PageSize;
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            actionError = "Could not load older messages: " + ex.Message;
        }
        finally
        {
            loading = false;
        }
    }

    private async Task SubmitAsync()
    {
        var text = draft.Trim();
        IReadOnlyList<Guid> files = editing is null && !Session.IsPeerToPeer(ConversationId) ? attachments?.ReadyIds ?? [] : [];
        if (text.Length == 0 && files.Count == 0)
        {
            return;
        }

        actionError = null;
        if (editing is null && attachments is { Busy: true })
        {
            actionError = "Wait until the files are uploaded.";
            return;
        }

        if (editing is { } message)
        {
            if (await RunAsync(() => Session.EditAsync(ConversationId, message.Id, text, CancellationToken.None)))
            {
                editing = null;
                draft = "";
            }

            return;
        }

        if (files.Count > 0)
        {
            // Messages with files go over REST, online only (AccountSession.SendWithAttachmentsAsync); plugins'
            // outgoing hooks see text-only messages (the outbox path) for now.
            if (await RunAsync(() => Session.SendWithAttachmentsAsync(ConversationId, text, replyTo?.Id, files, CancellationToken.None)))
            {
                attachments!.Clear();
                replyTo = null;
                draft = "";
            }

            return;
        }

        // Plugins see it first (slash commands, outgoing hooks); a refused message keeps its draft.
        if (await Session.SendAsync(ConversationId, text, replyTo?.Id, CancellationToken.None))
        {
            replyTo = null;
            draft = "";
        }
    }

    private void OnDraftInput()
    {
        if (editing is null && draft.Length > 0)
        {
            Session.Typing(ConversationId);
        }
    }

    private void StartReply(MessageResponse message)
    {
        editing = null;
        replyTo = message;
    }

    private void StartEdit(MessageResponse message)
    {
        replyTo = null;
        editing = message;
        draft = message.Text ?? "";
    }

    private void CancelContext()
    {
        if (editing is not null)
        {
            draft = "";
        }

        editing = null;
        replyTo = null;
    }

    private Task<bool> ReactAsync(MessageResponse message, string emoji) =>
        RunAsync(() => Session.ToggleReactionAsync(message, emoji, CancellationToken.None));

    private Task<bool> DeleteAsync(MessageResponse message) =>
        RunAsync(() => Session.DeleteAsync(ConversationId, message.Id, CancellationToken.None));

    private async Task<bool> RunAsync(Func<Task> action)
    {
        try
        {
            actionError = null;
            await action();
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            // Edits, deletes and reactions need the server; unlike messages they are not queued.
            actionError = Session.State == ConnectionState.Online ? ex.Message : "You are offline; try again when connected.";
            return false;
        }
    }
}
