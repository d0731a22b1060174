namespace ConnText.Server.Accounts;

internal enum RegistrationMode
{
    Open,
    Invite,
    Closed,
}

/// <summary>Settings under <c>ConnText:Accounts</c>.</summary>
internal sealed class AccountsOptions
{
    public const string Section = "ConnText:Accounts";

    /// <summary><c>Open</c> (anyone may register), <c>Invite</c> (with an admin's invite code) or <c>Closed</c>.</summary>
    public RegistrationMode RegistrationMode { get; set; } = RegistrationMode.Open;

    /// <summary>PBKDF2-HMAC-SHA512 iterations for new password hashes (OWASP: at least 210,000).</summary>
    public int PasswordHashIterations { get; set; } = 210_000;

    /// <summary>
    /// Password hashes (and verifications) that may run at once; 0 means half the processor count, at least 1.
    /// Each takes one core for ~0.1 s, so this caps the cores a login storm can take from chat (ADR 0008).
    /// </summary>
    public int PasswordHashConcurrency { get; set; }

    /// <summary>
    /// The share of a hashing turn's core that hashes may use over time (0.05 to 1; 1 = no pacing). Below 1, once the
    /// burst is spent a turn whose hash took <c>t</c> stays taken for <c>t × (1 ÷ share − 1)</c> more before the next
    /// sign-in in the queue gets it (ADR 0008).
    /// </summary>
    public double PasswordHashCpuShare { get; set; } = 0.25;

    /// <summary>Seconds of hashing (per turn) that may run unpaced after a quiet spell: ~5–10 sign-ins at full speed.</summary>
    public double PasswordHashBurstSeconds { get; set; } = 0.5;

    /// <summary>Sign-ins and password changes that may wait for a turn; beyond it they are refused with 503 and Retry-After.</summary>
    public int PasswordHashQueueLimit { get; set; } = 50;

    /// <summary>
    /// When no turn is free and the queue ahead (at the recent pace of turns) would keep a sign-in waiting longer than
    /// this, it is refused at once with 503 and Retry-After instead of queued.
    /// </summary>
    public int PasswordHashMaxWaitSeconds { get; set; } = 10;

    /// <summary>
    /// CPU priority of the threads that hash (ADR 0008): <c>Idle</c> (Linux <c>SCHED_IDLE</c>: only CPU time nothing
    /// else wants, so chat always goes first), <c>Low</c> (nice 19), or <c>Normal</c>.
    /// </summary>
    public PasswordHashPriority PasswordHashPriority { get; set; } = PasswordHashPriority.Idle;

    public int EffectivePasswordHashConcurrency =>
        PasswordHashConcurrency > 0 ? PasswordHashConcurrency : Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>CPU priority of the password hashing threads (<see cref="AccountsOptions.PasswordHashPriority"/>).</summary>
internal enum PasswordHashPriority
{
    /// <summary>Linux <c>SCHED_IDLE</c> (nice 19 if refused; <c>ThreadPriority.Lowest</c> elsewhere).</summary>
    Idle,

    /// <summary>Nice 19 on Linux, <c>ThreadPriority.Lowest</c> elsewhere.</summary>
    Low,

    /// <summary>The same priority as the rest of the server.</summary>
    Normal,
}
