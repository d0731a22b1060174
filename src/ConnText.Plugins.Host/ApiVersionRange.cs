using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace ConnText.Plugins.Hosting;

/// <summary>
/// A range of plugin API versions in NuGet's interval notation: <c>[1.0.0, 2.0.0)</c> (1.0.0 up to, not including,
/// 2.0.0), <c>[1.2.0, )</c> (no upper bound). A bare version <c>1.2.0</c> means what semantic versioning promises:
/// <c>[1.2.0, 2.0.0)</c>.
/// </summary>
public sealed partial record ApiVersionRange(Version Minimum, bool MinimumInclusive, Version? Maximum, bool MaximumInclusive)
{
    /// <summary>The version this host provides.</summary>
    public static Version HostVersion { get; } = Version.Parse(PluginApi.Version);

    public static bool TryParse(string? text, [NotNullWhen(true)] out ApiVersionRange? range)
    {
        range = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (Version.TryParse(text, out var bare))
        {
            range = new ApiVersionRange(bare, true, new Version(bare.Major + 1, 0, 0), false);
            return true;
        }

        var match = Interval().Match(text);
        if (!match.Success || !Version.TryParse(match.Groups["min"].Value, out var min))
        {
            return false;
        }

        Version? max = null;
        if (match.Groups["max"].Value.Length > 0 && !Version.TryParse(match.Groups["max"].Value, out max))
        {
            return false;
        }

        range = new ApiVersionRange(min, match.Groups["open"].Value == "[", max, match.Groups["close"].Value == "]");
        return max is null || max >= min;
    }

    public bool Contains(Version version)
    {
        version = Normalize(version);
        var min = Normalize(Minimum);
        if (MinimumInclusive ? version < min : version <= min)
        {
            return false;
        }

        if (Maximum is null)
        {
            return true;
        }

        var max = Normalize(Maximum);
        return MaximumInclusive ? version <= max : version < max;
    }

    public override string ToString() =>
        $"{(MinimumInclusive ? "[" : "(")}{Minimum}, {Maximum}{(MaximumInclusive ? "]" : ")")}";

    // 1.0 and 1.0.0 are the same API version (System.Version says 1.0 < 1.0.0).
    private static Version Normalize(Version v) => new(v.Major, v.Minor, Math.Max(v.Build, 0));

    [GeneratedRegex(@"^(?<open>[\[\(])\s*(?<min>[0-9.]+)\s*,\s*(?<max>[0-9.]*)\s*(?<close>[\]\)])$", RegexOptions.CultureInvariant)]
    private static partial Regex Interval();
}
