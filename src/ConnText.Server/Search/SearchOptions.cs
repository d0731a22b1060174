namespace ConnText.Server.Search;

/// <summary>Settings under <c>ConnText:Search</c>: message search.</summary>
internal sealed class SearchOptions
{
    public const string Section = "ConnText:Search";

    /// <summary>The longest query accepted, in characters.</summary>
    public int MaxQueryChars { get; set; } = 256;

    /// <summary>The most words a query may hold; each one must occur in a message for it to match.</summary>
    public int MaxTerms { get; set; } = 16;

    /// <summary>About how many characters of a message a result's snippet shows.</summary>
    public int SnippetChars { get; set; } = 200;
}
