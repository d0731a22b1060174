namespace ConnText.Browser.Tests.Infrastructure;

/// <summary>The repository the tests run from (screenshots are written into its docs/).</summary>
public static class Repository
{
    /// <summary>The folder holding ConnText.slnx, found upwards from the test binaries.</summary>
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ConnText.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Not inside the repository.");
    }
}
