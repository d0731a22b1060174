namespace ConnText.UI.Shell;

/// <summary>What the UI asks of the program hosting it.</summary>
public interface IAppShell
{
    /// <summary>Stops the engine and closes the window (closing the window alone keeps the engine running).</summary>
    void Quit();
}
