namespace ConnText.Contracts.Problems;

/// <summary>
/// The stable <c>type</c> values of RFC 9457 problem details returned by the REST API and the realtime hub.
/// Clients switch on these strings; they never change once published. See <c>docs/errors.md</c>.
/// </summary>
public static class ProblemTypes
{
    private const string Prefix = "urn:conntext:problem:";

    /// <summary>One or more fields failed validation; <c>errors</c> names each failing field.</summary>
    public const string Validation = Prefix + "validation";

    /// <summary>The request could not be read: malformed JSON, a missing body, a bad header or parameter.</summary>
    public const string MalformedRequest = Prefix + "malformed-request";

    /// <summary>The resource or route does not exist.</summary>
    public const string NotFound = Prefix + "not-found";

    /// <summary>The route exists but not for this HTTP method; the <c>Allow</c> header lists the methods.</summary>
    public const string MethodNotAllowed = Prefix + "method-not-allowed";

    /// <summary>The request body is larger than the server accepts.</summary>
    public const string PayloadTooLarge = Prefix + "payload-too-large";

    /// <summary>The request body's media type is not accepted by this endpoint.</summary>
    public const string UnsupportedMediaType = Prefix + "unsupported-media-type";

    /// <summary>The request conflicts with existing state (for example a taken username).</summary>
    public const string Conflict = Prefix + "conflict";

    /// <summary>Authentication is required or the credentials were not accepted.</summary>
    public const string Unauthorized = Prefix + "unauthorized";

    /// <summary>The caller is already in another call (hang up there first).</summary>
    public const string CallBusy = Prefix + "call-busy";

    /// <summary>The call already has the most participants a call may have (the mesh limit).</summary>
    public const string CallFull = Prefix + "call-full";

    /// <summary>The caller is authenticated but not allowed to do this.</summary>
    public const string Forbidden = Prefix + "forbidden";

    /// <summary>The server does not accept new registrations (registration mode).</summary>
    public const string RegistrationClosed = Prefix + "registration-closed";

    /// <summary>Too many requests; retry after the number of seconds in <c>Retry-After</c>.</summary>
    public const string RateLimited = Prefix + "rate-limited";

    /// <summary>Storing the upload would exceed the caller's storage quota (<c>ConnText:Files:QuotaBytesPerUser</c>).</summary>
    public const string QuotaExceeded = Prefix + "quota-exceeded";

    /// <summary>Storing the upload would leave less free disk space than the server keeps in reserve; retry later.</summary>
    public const string InsufficientStorage = Prefix + "insufficient-storage";

    /// <summary>A tus PATCH's <c>Upload-Offset</c> is not the server's offset; ask with HEAD and resume from there.</summary>
    public const string UploadOffsetMismatch = Prefix + "upload-offset-mismatch";

    /// <summary>The body does not match its <c>Upload-Checksum</c>; the chunk was discarded.</summary>
    public const string ChecksumMismatch = Prefix + "checksum-mismatch";

    /// <summary>The request does not speak a tus version this server supports (<c>Tus-Resumable: 1.0.0</c>).</summary>
    public const string TusVersionUnsupported = Prefix + "tus-version-unsupported";

    /// <summary>The unfinished upload expired and its bytes were deleted; start a new upload.</summary>
    public const string UploadExpired = Prefix + "upload-expired";

    /// <summary>None of the requested byte ranges lies within the file; <c>Content-Range</c> gives its size.</summary>
    public const string RangeNotSatisfiable = Prefix + "range-not-satisfiable";

    /// <summary>No thumbnail can be made: the file is not a supported image, or it has more pixels than the server decodes.</summary>
    public const string ThumbnailUnavailable = Prefix + "thumbnail-unavailable";

    /// <summary>A dependency (for example the database) is unavailable; retry later.</summary>
    public const string ServiceUnavailable = Prefix + "service-unavailable";

    /// <summary>An unexpected server error; the response carries a <c>traceId</c> for the operator's logs.</summary>
    public const string Internal = Prefix + "internal";

    /// <summary>Any other HTTP error status without a more specific type.</summary>
    public const string Http = Prefix + "http";
}
