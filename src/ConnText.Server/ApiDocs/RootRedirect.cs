namespace ConnText.Server.ApiDocs;

internal static class RootRedirect
{
    /// <summary>A person who opens the server's address in a browser lands on the API reference.</summary>
    public static void MapRootRedirect(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/", () => TypedResults.Redirect("/docs/")).ExcludeFromDescription();
}
