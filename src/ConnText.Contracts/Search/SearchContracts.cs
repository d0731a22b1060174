using ConnText.Contracts.Conversations;

namespace ConnText.Contracts.Search;

/// <summary>A span of text, in UTF-16 code units (the unit of .NET and JavaScript string indexes).</summary>
/// <param name="Offset">Where the span starts, from the start of the string it refers to.</param>
/// <param name="Length">How many UTF-16 code units it covers.</param>
public sealed record TextRange(int Offset, int Length);

/// <summary>
/// One message that matches a search. The snippet is plain text cut from the message (never markup); the highlights
/// say which parts of it matched, so a client marks them up itself and no message text is ever interpreted as HTML.
/// </summary>
/// <param name="Message">The message as the history returns it.</param>
/// <param name="Snippet">A part of the message text around the first match (the whole text when it is short).</param>
/// <param name="SnippetOffset">Where the snippet starts in <c>message.text</c>, so highlights map onto the full text too.</param>
/// <param name="Highlights">The matched words, relative to the snippet, in order and not overlapping.</param>
public sealed record SearchHitResponse(MessageResponse Message, string Snippet, int SnippetOffset, IReadOnlyList<TextRange> Highlights);

/// <summary>A page of search results, newest message first.</summary>
/// <param name="Items">The matching messages, newest first.</param>
/// <param name="NextCursor">Pass as <c>before</c> to get the next (older) page; null on the last page.</param>
public sealed record SearchPageResponse(IReadOnlyList<SearchHitResponse> Items, string? NextCursor);
