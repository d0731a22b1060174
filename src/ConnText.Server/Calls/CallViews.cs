using ConnText.Contracts.Calls;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnText.Server.Calls;

/// <summary>Turns stored calls into their wire form.</summary>
internal static class CallViews
{
    public static CallSummaryResponse Summary(Call call) => new(call.Id, call.Media, call.EndReason ?? "", Duration(call) ?? 0);

    public static long? Duration(Call call) => call.EndedAt is not { } ended
        ? null
        : call.AnsweredAt is { } answered ? (long)Math.Max(0, (ended - answered).TotalSeconds) : 0;

    public static async Task<CallResponse> ToResponseAsync(ConnTextDbContext db, Guid callId, CancellationToken cancellationToken)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        return (await ToResponsesAsync(db, [call], cancellationToken))[0];
    }

    public static async Task<List<CallResponse>> ToResponsesAsync(ConnTextDbContext db, IReadOnlyList<Call> calls, CancellationToken cancellationToken)
    {
        var ids = calls.Select(c => c.Id).ToList();
        var participants = (await db.CallParticipants.AsNoTracking().Where(p => ids.Contains(p.CallId)).ToListAsync(cancellationToken))
            .ToLookup(p => p.CallId);
        return calls.Select(c => new CallResponse(c.Id, c.ConversationId, c.Media, c.InitiatorId, c.State, c.EndReason, c.CreatedAt,
                c.RingDeadline, c.AnsweredAt, c.EndedAt, Duration(c),
                participants[c.Id].OrderBy(p => p.UserId == c.InitiatorId ? 0 : 1).ThenBy(p => p.UserId)
                    .Select(p => new CallParticipantResponse(p.UserId, p.State, p.DeviceId, p.JoinedAt, p.LeftAt)).ToList()))
            .ToList();
    }

    /// <summary>A unique index refused the write (a racing transaction on another connection or node won).</summary>
    public static bool IsUniqueViolation(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres when postgres.SqlState == PostgresErrorCodes.UniqueViolation:
                case SqliteException sqlite when sqlite.SqliteExtendedErrorCode is 2067 or 1555: // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
                    return true;
            }
        }

        return false;
    }
}

/// <summary>A refused call command: the hub turns it into "type: detail" (see <c>RealtimeHub.Refusal</c>).</summary>
internal sealed class CallRefusedException : Exception
{
    public CallRefusedException(string type, string detail)
        : base(detail) => Type = type;

    public CallRefusedException()
    {
        Type = ProblemTypes.Conflict;
    }

    public CallRefusedException(string message)
        : base(message) => Type = ProblemTypes.Conflict;

    public CallRefusedException(string message, Exception innerException)
        : base(message, innerException) => Type = ProblemTypes.Conflict;

    public string Type { get; }

    public static CallRefusedException NoCall() => new(ProblemTypes.NotFound, "You are not a participant of a call with this id.");

    public static CallRefusedException Conflict(string detail) => new(ProblemTypes.Conflict, detail);

    public static CallRefusedException Validation(string field, string detail) => new(ProblemTypes.Validation, $"{field}: {detail}");
}
