using System.Reflection;
using System.Runtime.Loader;

namespace ConnText.Plugins.Hosting;

/// <summary>
/// One plugin's assemblies, collectible so that disabling the plugin unloads them. The plugin API assembly always
/// comes from the host: a plugin's own copy would give it different <see cref="IPlugin"/> types that the host cannot call.
/// </summary>
internal sealed class PluginLoadContext(string pluginId, string entryAssemblyPath)
    : AssemblyLoadContext("plugin:" + pluginId, isCollectible: true)
{
    private static readonly string SharedName = typeof(IPlugin).Assembly.GetName().Name!;
    private readonly AssemblyDependencyResolver resolver = new(entryAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name == SharedName)
        {
            return null; // the default context's (the host's) copy
        }

        var path = resolver.ResolveAssemblyToPath(assemblyName);
        return path is not null && File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
