using ConnText.Client.Api;
using ConnText.Client.Sessions;
using ConnText.Client.Store;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>
/// A group's name and topic, members with roles, adding (directory search), removing, role changes, handing ownership
/// over, and leaving. Controls follow the server's rules for the user's role; whatever the server still refuses (the
/// roles changed meanwhile, an invalid name) shows as its message.
/// </summary>
public sealed partial class GroupSettings
{
    private string title = "";
    private string topic = "";
    private string query = "";
    private IReadOnlyList<UserSummary> results = [];
    private Guid? transferTo;
    private Guid? loaded;
    private bool busy;
    private string? error;
    private string? notice;

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Parameter]
    public Guid ConversationId { get; set; }

    [Inject]
    private HomeNavigation Navigation { get; set; } = null!;

    private StoredConversation? Stored => Session.Store.Conversation(ConversationId);

    protected override void OnParametersSet()
    {
        // Fill the form once per group, not on every re-render (that would overwrite what is being typed).
        if (loaded != ConversationId && Stored is { } stored)
        {
            loaded = ConversationId;
            title = stored.Conversation.Title ?? "";
            topic = stored.Conversation.Topic ?? "";
        }
    }

    private static int RoleOrder(string role) => role switch { MemberRoles.Owner => 0, MemberRoles.Admin => 1, _ => 2 };

    private static string RoleName(string role) => role switch { MemberRoles.Owner => "Owner", MemberRoles.Admin => "Admin", _ => "Member" };

    // Sent as typed (the server trims): the server's validation says what is wrong with an empty name.
    private Task SaveAsync() => RunAsync(
        () => Session.UpdateConversationAsync(ConversationId, new UpdateConversationRequest(title, topic), CancellationToken.None),
        "Saved.");

    private Task SetRoleAsync(ConversationMemberResponse member, string role) => RunAsync(async () =>
    {
        await Session.SetRoleAsync(ConversationId, member.UserId, role, CancellationToken.None);
        transferTo = null;
    }, role == MemberRoles.Owner ? $"{member.DisplayName} is now the owner." : $"{member.DisplayName} is now {(role == MemberRoles.Admin ? "an admin" : "a member")}.");

    private Task RemoveAsync(ConversationMemberResponse member) =>
        RunAsync(() => Session.RemoveMemberAsync(ConversationId, member.UserId, CancellationToken.None), $"{member.DisplayName} was removed.");

    private Task AddAsync(UserSummary user) =>
        RunAsync(() => Session.AddMemberAsync(ConversationId, user.Id, CancellationToken.None), $"{user.DisplayName} was added.");

    private async Task LeaveAsync()
    {
        await RunAsync(() => Session.LeaveAsync(ConversationId, CancellationToken.None), null);
        if (error is null)
        {
            Navigation.Show(HomePanel.Conversation);
        }
    }

    private async Task SearchAsync()
    {
        var asked = query.Trim();
        if (asked.Length == 0)
        {
            results = [];
            return;
        }

        try
        {
            var page = await Session.Api.SearchUsersAsync(asked, CancellationToken.None);
            if (asked == query.Trim())
            {
                results = page.Items;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            error = "Search needs a connection to the server.";
        }
    }

    private async Task RunAsync(Func<Task> action, string? done)
    {
        busy = true;
        error = null;
        notice = null;
        try
        {
            await action();
            notice = done;
        }
        catch (ApiException ex)
        {
            error = ex.Message;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ConnText.Client.Auth.SignInRequiredException)
        {
            error = "This needs a connection to the server.";
        }
        finally
        {
            busy = false;
        }
    }
}
