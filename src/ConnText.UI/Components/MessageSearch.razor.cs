using System.Net;
using ConnText.Client.Sessions;
using ConnText.Client.Store;
using ConnText.UI.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace ConnText.UI.Components;

/// <summary>
/// Full-text search over the account's local store (every message this device has seen), so it answers at once and
/// offline; choosing a result opens its conversation at that message.
/// </summary>
public sealed partial class MessageSearch
{
    private const int MaxHits = 30;

    private string query = "";
    private IReadOnlyList<LocalSearchHit> hits = [];

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    /// <summary>Raised with the chosen message's conversation and id.</summary>
    [Parameter]
    public EventCallback<LocalSearchHit> OnOpen { get; set; }

    /// <summary>The snippet as HTML: the text (without Markdown) encoded, the matches marked.</summary>
    internal static string Highlight(string snippet) =>
        WebUtility.HtmlEncode(MarkdownRenderer.ToPlainText(snippet))
            .Replace(LocalStore.MatchStart.ToString(), "<mark>", StringComparison.Ordinal)
            .Replace(LocalStore.MatchEnd.ToString(), "</mark>", StringComparison.Ordinal);

    private void Search() => hits = Session.Store.Search(query, MaxHits);

    private void OnKey(KeyboardEventArgs e)
    {
        if (e.Key == "Escape")
        {
            query = "";
            hits = [];
        }
    }

    private Task OpenAsync(LocalSearchHit hit) => OnOpen.InvokeAsync(hit);
}
