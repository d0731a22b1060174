using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ConnText.LoadTest;

/// <summary>
/// Bench-only shortcut, never part of the server: creating 10,000 accounts through the API costs one
/// password hash each (~100 ms on these cores, ~17 minutes in all), so the rows are written with SQL into
/// a freshly migrated database. They are what the server itself would store: one precomputed Identity
/// password hash shared by every user (password "bench-password-1"), a personal access token per user
/// (only its SHA-256 stored, as <c>PersonalAccessTokenHandler</c> does), and group conversations whose
/// members are consecutive users. Column formats follow the EF Core mappings: on SQLite GUIDs are upper-case
/// text and <c>DateTimeOffset</c> is EF's <c>DateTimeOffsetToBinaryConverter</c> long.
/// </summary>
internal static class Seeder
{
    public const string Password = "bench-password-1";

    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var provider = options.String("provider", "sqlite");
        var users = options.Int("users", 10_000);
        var roomSize = options.Int("room-size", 100);
        var tokensOut = options.String("tokens-out", "tokens.tsv");
        // "true": tokens look used a day from now, so connecting does not write LastUsedAt (the handler writes it
        // at most once a minute). On SQLite those writes serialize and wait in Microsoft.Data.Sqlite's blocking
        // busy loop on thread-pool threads: with them, 10,000 first connects take minutes (docs/performance.md).
        var markUsed = options.String("mark-tokens-used", "false") == "true";
        if (users % roomSize != 0)
        {
            throw new ArgumentException("--users must be a multiple of --room-size");
        }

        var sqlite = provider switch
        {
            "sqlite" => true,
            "postgres" => false,
            _ => throw new ArgumentException("--provider is sqlite or postgres"),
        };
        await using DbConnection connection = sqlite
            ? new SqliteConnection(options.Required("connection"))
            : new NpgsqlConnection(options.Required("connection"));
        await connection.OpenAsync(cancellationToken);

        var now = TimeProvider.System.GetUtcNow();
        // The server's default iteration count (ConnText:Accounts:PasswordHashIterations), so a password login costs the same.
        var passwordHash = new PasswordHasher<object>(Microsoft.Extensions.Options.Options.Create(
            new PasswordHasherOptions { IterationCount = 210_000 })).HashPassword(new object(), Password);
        var db = new Values(sqlite);
        var userIds = Enumerable.Range(0, users).Select(_ => Guid.CreateVersion7()).ToArray();
        var roomIds = Enumerable.Range(0, users / roomSize).Select(_ => Guid.CreateVersion7()).ToArray();
        var tokens = new string[users];

        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var user = Command(connection, transaction, """
                INSERT INTO users ("Id", "DisplayName", "IsDisabled", "CreatedAt", "UserName", "NormalizedUserName",
                    "EmailConfirmed", "PasswordHash", "SecurityStamp", "ConcurrencyStamp", "PhoneNumberConfirmed",
                    "TwoFactorEnabled", "LockoutEnabled", "AccessFailedCount")
                VALUES (@id, @name, @false, @now, @name, @normalized, @false, @hash, @stamp, @concurrency, @false, @false, @true, 0)
                """, "id", "name", "normalized", "stamp", "concurrency", "false", "true", "now", "hash");
            await using var token = Command(connection, transaction, """
                INSERT INTO personal_access_tokens ("Id", "UserId", "Name", "Prefix", "SecretHash", "Scopes", "CreatedAt", "ExpiresAt", "LastUsedAt")
                VALUES (@id, @user, 'bench', @prefix, @secret, 'read write', @now, @expires, @used)
                """, "id", "user", "prefix", "secret", "now", "expires", "used");
            await using var room = Command(connection, transaction, """
                INSERT INTO conversations ("Id", "Kind", "Title", "LastSequence", "CreatedAt", "LastActivityAt")
                VALUES (@id, 'group', @title, 0, @now, @now)
                """, "id", "title", "now");
            await using var member = Command(connection, transaction, """
                INSERT INTO conversation_members ("ConversationId", "UserId", "Role", "JoinedAt", "LastReadSequence", "Muted")
                VALUES (@room, @user, @role, @now, 0, @false)
                """, "room", "user", "role", "now", "false");
            foreach (var command in new[] { user, token, room, member })
            {
                Set(command, "now", db.Time(now));
            }

            Set(user, "false", db.Bool(false));
            Set(user, "true", db.Bool(true));
            Set(user, "hash", passwordHash);
            Set(member, "false", db.Bool(false));
            Set(token, "expires", db.Time(now.AddDays(30)));
            Set(token, "used", markUsed ? db.Time(now.AddDays(1)) : DBNull.Value);

            for (var i = 0; i < users; i++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"bench-{i:D5}");
                Set(user, "id", db.Guid(userIds[i]));
                Set(user, "name", name);
                Set(user, "normalized", name.ToUpperInvariant());
                Set(user, "stamp", Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
                Set(user, "concurrency", Guid.NewGuid().ToString());
                await user.ExecuteNonQueryAsync(cancellationToken);

                tokens[i] = "ctp_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                Set(token, "id", db.Guid(Guid.CreateVersion7()));
                Set(token, "user", db.Guid(userIds[i]));
                Set(token, "prefix", tokens[i][..10]);
                Set(token, "secret", SHA256.HashData(Encoding.UTF8.GetBytes(tokens[i])));
                await token.ExecuteNonQueryAsync(cancellationToken);
            }

            for (var r = 0; r < roomIds.Length; r++)
            {
                Set(room, "id", db.Guid(roomIds[r]));
                Set(room, "title", string.Create(CultureInfo.InvariantCulture, $"bench room {r}"));
                await room.ExecuteNonQueryAsync(cancellationToken);
                for (var m = 0; m < roomSize; m++)
                {
                    Set(member, "room", db.Guid(roomIds[r]));
                    Set(member, "user", db.Guid(userIds[(r * roomSize) + m]));
                    Set(member, "role", m == 0 ? "owner" : "member");
                    await member.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            await transaction.CommitAsync(cancellationToken);
        }

        await File.WriteAllLinesAsync(tokensOut,
            Enumerable.Range(0, users).Select(i => $"{tokens[i]}\t{userIds[i]}\t{roomIds[i / roomSize]}"), cancellationToken);
        Console.WriteLine($"Seeded {users} users with tokens and {roomIds.Length} rooms of {roomSize} ({provider}); tokens in {tokensOut}");
        return 0;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // constant SQL; every value is a parameter
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static void Set(DbCommand command, string name, object value) => command.Parameters[name].Value = value;

    /// <summary>Values in each provider's column format.</summary>
    private sealed class Values(bool sqlite)
    {
        public object Guid(Guid value) => sqlite ? value.ToString().ToUpperInvariant() : value;

        public object Bool(bool value) => sqlite ? (value ? 1 : 0) : value;

        // EF Core's DateTimeOffsetToBinaryConverter: milliseconds-of-ticks shifted left 11 bits, offset minutes below.
#pragma warning disable CA1859 // a long on SQLite, a DateTimeOffset on PostgreSQL: object is the point
        public object Time(DateTimeOffset value)
#pragma warning restore CA1859
        {
            if (sqlite)
            {
                return (value.UtcTicks / 1000) << 11;
            }

            return value.ToUniversalTime();
        }
    }
}
