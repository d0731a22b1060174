using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ConnText.Plugins.Dice;

/// <summary><c>/roll 2d6</c>, <c>/roll d20+3</c>: throws the dice and sends the result to the conversation.</summary>
public sealed class DicePlugin : IPlugin
{
    public ValueTask ActivateAsync(IPluginContext context, CancellationToken cancellationToken)
    {
        context.AddSlashCommand(new SlashCommand("roll", "Rolls dice, e.g. /roll 2d6 or /roll d20+3", Roll));
        context.AddComposerButton(new ComposerButton("🎲", "Roll dice", "/roll 2d6"));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    private static ValueTask<SlashCommandResult> Roll(SlashCommandInvocation invocation, CancellationToken cancellationToken)
    {
        var spec = invocation.Arguments.Length == 0 ? "1d6" : invocation.Arguments;
        return ValueTask.FromResult(DiceRoll.TryParse(spec, out var roll)
            ? SlashCommandResult.Send(roll.Throw(RandomNumberGenerator.GetInt32))
            : SlashCommandResult.Show("Usage: /roll NdS[+M], e.g. /roll 2d6 or /roll d20+3 (up to 100 dice of up to 1000 sides)."));
    }
}

/// <summary>A dice expression: <c>count</c> dice of <c>sides</c> sides, plus <c>modifier</c>.</summary>
public sealed partial record DiceRoll(int Count, int Sides, int Modifier)
{
    public static bool TryParse(string text, out DiceRoll roll)
    {
        roll = new DiceRoll(0, 0, 0);
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }

        var count = match.Groups["count"].Length == 0 ? 1 : int.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture);
        var sides = int.Parse(match.Groups["sides"].Value, CultureInfo.InvariantCulture);
        var modifier = match.Groups["mod"].Length == 0 ? 0 : int.Parse(match.Groups["mod"].Value.Replace(" ", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        if (count is < 1 or > 100 || sides is < 2 or > 1000 || Math.Abs(modifier) > 1000)
        {
            return false;
        }

        roll = new DiceRoll(count, sides, modifier);
        return true;
    }

    /// <summary>Throws the dice; <paramref name="next"/>(min, maxExclusive) picks each face.</summary>
    public string Throw(Func<int, int, int> next)
    {
        var faces = Enumerable.Range(0, Count).Select(_ => next(1, Sides + 1)).ToList();
        var total = faces.Sum() + Modifier;
        var modifier = Modifier == 0 ? "" : Modifier > 0 ? $"+{Modifier}" : $"{Modifier}";
        var detail = string.Join(" + ", faces.Select(f => f.ToString(CultureInfo.InvariantCulture)))
            + (Modifier == 0 ? "" : Modifier > 0 ? $" + {Modifier}" : $" − {-Modifier}");
        return string.Create(CultureInfo.InvariantCulture, $"🎲 {Count}d{Sides}{modifier}: {detail} = **{total}**");
    }

    [GeneratedRegex(@"^(?<count>\d{1,3})?d(?<sides>\d{1,4})(?<mod>\s*[+-]\s*\d{1,4})?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
