using System.Net.Sockets;
using System.Text;
using ConnText.Client.Auth;

namespace ConnText.Desktop.Launch;

/// <summary>
/// One instance per user and data directory: the first holds an exclusive lock on <c>instance.lock</c> and listens on
/// the Unix socket <c>instance.sock</c> (both in the owner-only data directory, so other users cannot reach it); a
/// second launch asks it to open its window and exits.
/// </summary>
internal sealed class SingleInstance : IDisposable
{
    private const string OpenCommand = "open\n";
    private readonly FileStream lockFile;
    private readonly Socket listener;
    private readonly string socketPath;
    private readonly CancellationTokenSource stop = new();
    private int disposed;

    private SingleInstance(FileStream lockFile, Socket listener, string socketPath)
    {
        this.lockFile = lockFile;
        this.listener = listener;
        this.socketPath = socketPath;
    }

    /// <summary>Becomes the instance, or returns <see langword="null"/> when another one holds the lock.</summary>
    public static SingleInstance? TryAcquire(string dataDirectory)
    {
        OwnerOnly.CreateDirectory(dataDirectory);
#pragma warning disable CA2000 // ownership passes to the instance, which disposes it (or the catch below does)
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; it is released when the process dies.
            lockFile = new FileStream(Path.Combine(dataDirectory, "instance.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }

        var socketPath = Path.Combine(dataDirectory, "instance.sock");
        File.Delete(socketPath); // Left by a crashed instance; we hold the lock, so it is not in use.
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(4);
        }
        catch
        {
            listener.Dispose();
            lockFile.Dispose();
            throw;
        }

        return new SingleInstance(lockFile, listener, socketPath);
#pragma warning restore CA2000
    }

    /// <summary>Asks the running instance to open its window; false when it does not answer.</summary>
    public static async Task<bool> SignalRunningAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(dataDirectory, "instance.sock")), cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes(OpenCommand), cancellationToken);
            var buffer = new byte[16];
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            return read > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Serves requests of later launches until disposed.</summary>
    public async Task ServeAsync(Action open)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            using (client)
            {
                try
                {
                    var buffer = new byte[16];
                    var read = await client.ReceiveAsync(buffer, stop.Token);
                    if (Encoding.ASCII.GetString(buffer, 0, read) == OpenCommand)
                    {
                        open();
                        await client.SendAsync("ok\n"u8.ToArray(), stop.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException)
                {
                    // A launch that went away; nothing to do.
                }
            }
        }
    }

    public void Dispose()
    {
        // Idempotent: the host disposes it on shutdown and again when leaving its using scope.
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        stop.Cancel();
        listener.Dispose();
        File.Delete(socketPath);
        lockFile.Dispose();
        stop.Dispose();
    }
}
