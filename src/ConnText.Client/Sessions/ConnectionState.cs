namespace ConnText.Client.Sessions;

/// <summary>The state of an account's realtime connection, as the UI shows it.</summary>
public enum ConnectionState
{
    /// <summary>Not connected; retrying in the background. Messages written now wait in the outbox.</summary>
    Offline,

    /// <summary>Connecting for the first time.</summary>
    Connecting,

    /// <summary>The connection dropped and is being re-established.</summary>
    Reconnecting,

    /// <summary>Connected and caught up.</summary>
    Online,
}
