namespace ConnText.Server.Hosting;

internal static class ConfigurationExtensions
{
    /// <summary>Binds a section, turning a value of the wrong type into a start-up error that names the setting.</summary>
    public static T BindSection<T>(this IConfiguration configuration, string section) where T : new()
    {
        var value = new T();
        try
        {
            configuration.GetSection(section).Bind(value);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the expected type, e.g.
            // "Failed to convert configuration value at 'ConnText:Limits:MaxRequestBodyBytes' to type 'System.Int64'."
            throw new StartupException(section, ex.Message, ex);
        }

        return value;
    }
}
