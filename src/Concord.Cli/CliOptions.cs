using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Concord.Cli;

/// <summary>Option factories shared by the commands, so that a bad value gets the same clear message everywhere.</summary>
internal static class CliOptions
{
    /// <summary>An integer option bounded to [min, max]; a non-number or an out-of-range value is a parse error (exit 2).</summary>
    public static Option<int?> IntegerInRange(string name, int min, int max, string description) => new(name)
    {
        Description = $"{description} ({min}–{max})",
        CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (!int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                result.AddError($"{name} must be an integer between {min} and {max}, not '{token}'.");
                return null;
            }
            return value;
        },
    };
}
