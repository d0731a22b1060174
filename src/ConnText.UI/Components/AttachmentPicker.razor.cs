using ConnText.Client.Api;
using ConnText.Client.Sessions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace ConnText.UI.Components;

/// <summary>
/// The composer's attach button and the files chosen for the next message, each uploaded at once (tus, in chunks) with a
/// progress bar. The message is sent with the ids of the uploaded files (<see cref="ReadyIds"/>).
/// </summary>
public sealed partial class AttachmentPicker : IDisposable
{
    /// <summary>The most files one message carries (the server's default limit).</summary>
    public const int MaxFiles = 10;

    // The stream from the window is read as the upload goes; the server enforces its own (configurable) size limit.
    private const long MaxReadBytes = 16L * 1024 * 1024 * 1024;

    private readonly List<PendingUpload> uploads = [];
    private readonly CancellationTokenSource disposed = new();

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    /// <summary>Whether a file is still uploading.</summary>
    public bool Busy => uploads.Any(u => u.State == "uploading");

    /// <summary>The uploaded files' ids, in the order chosen.</summary>
    public IReadOnlyList<Guid> ReadyIds => [.. uploads.Where(u => u.FileId is not null).Select(u => u.FileId!.Value)];

    /// <summary>Forgets the files (after the message went).</summary>
    public void Clear()
    {
        uploads.Clear();
        StateHasChanged();
    }

    public void Dispose()
    {
        disposed.Cancel();
        disposed.Dispose();
    }

    private async Task ChooseAsync(InputFileChangeEventArgs e)
    {
        var room = MaxFiles - uploads.Count;
        var chosen = e.GetMultipleFiles(int.MaxValue).Take(Math.Max(room, 0)).Select(f => (File: f, Upload: new PendingUpload(f.Name, f.Size))).ToList();
        uploads.AddRange(chosen.Select(c => c.Upload));
        foreach (var (file, upload) in chosen)
        {
            // One at a time: the window sends each file's bytes over the same connection anyway.
            await UploadAsync(file, upload);
        }
    }

    private async Task UploadAsync(IBrowserFile file, PendingUpload upload)
    {
        try
        {
            await using var stream = file.OpenReadStream(MaxReadBytes, disposed.Token);
            var progress = new Progress(this, upload);
            var stored = await Session.UploadAsync(stream, file.Size, file.Name, progress, disposed.Token);
            upload.FileId = stored.Id;
            upload.Sent = upload.Size;
            upload.State = "uploaded";
        }
        catch (OperationCanceledException)
        {
            upload.State = "cancelled";
        }
        catch (ApiException ex)
        {
            upload.Error = ex.Message;
            upload.State = "failed";
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            upload.Error = "The upload failed: " + (Session.State == ConnectionState.Online ? ex.Message : "you are offline.");
            upload.State = "failed";
        }
    }

    // An upload still running finishes on the server; its file is just not attached (the janitor removes unshared files).
    private void Remove(PendingUpload upload) => uploads.Remove(upload);

    private sealed class PendingUpload(string name, long size)
    {
        public string Name { get; } = name;

        public long Size { get; } = size;

        public long Sent { get; set; }

        public string State { get; set; } = "uploading";

        public string? Error { get; set; }

        public Guid? FileId { get; set; }
    }

    /// <summary>Moves the progress bar as the server confirms each chunk.</summary>
    private sealed class Progress(AttachmentPicker picker, PendingUpload upload) : IProgress<long>
    {
        public void Report(long value)
        {
            upload.Sent = value;
            _ = picker.InvokeAsync(picker.StateHasChanged);
        }
    }
}
