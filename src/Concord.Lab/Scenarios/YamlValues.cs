using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

/// <summary>An inclusive range of allowed values; every number in a scenario has one.</summary>
internal readonly record struct Bounds(double Min, double Max)
{
    public bool Contains(double value) => value >= Min && value <= Max;

    public override string ToString() => $"between {YamlValues.Format(Min)} and {YamlValues.Format(Max)}";
}

/// <summary>
/// Typed values out of YAML nodes. The representation model keeps every scalar as text with its
/// style, so types are decided here, strictly: a quoted <c>"5"</c> is a string, not a number, and
/// <c>NaN</c> is not a number either. Each reader reports a mistake and returns null.
/// </summary>
internal static partial class YamlValues
{
    /// <summary>Echoed values are cut to this length: an error line should fit a terminal.</summary>
    const int EchoLengthMax = 60;

    /// <summary>Free text (descriptions) is bounded like everything else.</summary>
    public const int TextLengthMax = 4_000;

    /// <summary>Lower-case words of letters and digits joined by single '-': <c>exercise</c>, <c>no-tokens</c>, <c>us-east</c>.</summary>
    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex KebabName();

    public const int NameLengthMax = 64;

    /// <summary>True for an empty value, <c>~</c> or <c>null</c>: YAML's ways of writing nothing.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    /// <summary>How a node looks to the user, for "got ..." at the end of a message.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        _ when IsNull(node) => "nothing",
        YamlScalarNode when PlainScalar(node) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => Quote(text).Trim('"'),
        YamlScalarNode scalar => Quote(scalar.Value ?? ""),
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "an alias",
    };

    /// <summary><c>"text"</c>, cut to a readable length.</summary>
    public static string Quote(string text) =>
        text.Length <= EchoLengthMax ? $"\"{text}\"" : $"\"{text[..EchoLengthMax]}...\"";

    public static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Any scalar as text (descriptions, names before their format is checked).</summary>
    public static string? Text(YamlNode node, string field, ScenarioDiagnostics diagnostics, string expected = "a text")
    {
        if (node is YamlScalarNode scalar && !IsNull(node))
        {
            var text = scalar.Value ?? "";
            if (text.Length <= TextLengthMax)
            {
                return text;
            }

            diagnostics.Report(node, field, $"must be at most {TextLengthMax} characters long; got {text.Length}");
            return null;
        }

        diagnostics.Report(node, field, $"must be {expected}; got {Describe(node)}");
        return null;
    }

    /// <summary>A name made of lower-case words joined by '-' (scenario, region and variant names).</summary>
    public static string? Name(YamlNode node, string field, ScenarioDiagnostics diagnostics)
    {
        const string Expected = "a name of lower-case letters, digits and single '-' between them (e.g. \"no-tokens\")";
        if (Text(node, field, diagnostics, Expected) is not { } text)
        {
            return null;
        }

        if (text.Length > NameLengthMax || !KebabName().IsMatch(text))
        {
            diagnostics.Report(node, field, $"must be {Expected}, at most {NameLengthMax} characters; got {Quote(text)}");
            return null;
        }

        return text;
    }

    /// <summary>A finite number within <paramref name="bounds"/>; <c>0.5</c>, <c>40</c>, <c>1e3</c> and <c>1_000</c> all read.</summary>
    public static double? Number(YamlNode node, string field, ScenarioDiagnostics diagnostics, Bounds bounds)
    {
        if (PlainScalar(node) is { } text
            && double.TryParse(WithoutDigitSeparators(text), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value)
            && bounds.Contains(value))
        {
            return value;
        }

        diagnostics.Report(node, field, $"must be a number {bounds}; got {Describe(node)}");
        return null;
    }

    /// <summary>A whole number within <paramref name="bounds"/>.</summary>
    public static long? Integer(YamlNode node, string field, ScenarioDiagnostics diagnostics, Bounds bounds)
    {
        if (TryInteger(node, out var value) && bounds.Contains(value))
        {
            return value;
        }

        diagnostics.Report(node, field, $"must be a whole number {bounds}; got {Describe(node)}");
        return null;
    }

    /// <summary>A whole number, without reporting anything (for values that may take one of several shapes).</summary>
    public static bool TryInteger(YamlNode node, out long value)
    {
        value = 0;
        return PlainScalar(node) is { } text
            && long.TryParse(WithoutDigitSeparators(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Any unsigned 64-bit integer (seeds).</summary>
    public static ulong? Unsigned(YamlNode node, string field, ScenarioDiagnostics diagnostics)
    {
        if (PlainScalar(node) is { } text
            && ulong.TryParse(WithoutDigitSeparators(text), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        diagnostics.Report(node, field, $"must be a whole number between 0 and {ulong.MaxValue}; got {Describe(node)}");
        return null;
    }

    /// <summary>One of an enum's values, written in lower case with '-' between words (<c>QuorumCas</c> is <c>quorum-cas</c>).</summary>
    public static T? Choice<T>(YamlNode node, string field, ScenarioDiagnostics diagnostics)
        where T : struct, Enum
    {
        var text = node is YamlScalarNode scalar && !IsNull(node) ? scalar.Value ?? "" : null;
        if (text is not null && KebabEnum<T>.TryParse(text, out var value))
        {
            return value;
        }

        var valid = string.Join(", ", KebabEnum<T>.Names);
        var hint = text is null ? "" : Suggestions.DidYouMean(text, KebabEnum<T>.Names);
        diagnostics.Report(node, field, $"must be one of {valid}; got {Describe(node)}{hint}");
        return null;
    }

    /// <summary>The items of a list with <paramref name="countMin"/> to <paramref name="countMax"/> entries.</summary>
    public static IReadOnlyList<YamlNode>? List(YamlNode node, string field, ScenarioDiagnostics diagnostics, int countMin, int countMax, string items)
    {
        if (node is not YamlSequenceNode sequence)
        {
            diagnostics.Report(node, field, $"must be a list of {items}; got {Describe(node)}");
            return null;
        }

        var count = sequence.Children.Count;
        if (count < countMin || count > countMax)
        {
            var range = countMin == countMax ? $"exactly {countMin}" : $"{countMin} to {countMax}";
            diagnostics.Report(node, field, $"must list {range} {items}; got {count}");
            return null;
        }

        return sequence.Children.ToList();
    }

    /// <summary>A number's text: only plain (unquoted) scalars are numbers in YAML.</summary>
    static string? PlainScalar(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar && !IsNull(node) ? scalar.Value : null;

    /// <summary>YAML 1.1 allows <c>1_000</c>; .NET's parsers don't, so drop '_' between digits.</summary>
    static string WithoutDigitSeparators(string text) => text.Contains('_', StringComparison.Ordinal) ? text.Replace("_", "", StringComparison.Ordinal) : text;
}

/// <summary>
/// An enum's values as scenario files spell them: lower case, '-' between words. Derived from the
/// member names, so a new mode in PlatformScenario.cs is accepted (and listed in errors) at once.
/// </summary>
internal static class KebabEnum<T>
    where T : struct, Enum
{
    static readonly Dictionary<string, T> ByName = Enum.GetValues<T>().ToDictionary(ToKebab, StringComparer.Ordinal);

    /// <summary>In declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<T>().Select(ToKebab)];

    public static bool TryParse(string text, out T value) => ByName.TryGetValue(text, out value);

    public static string NameOf(T value) => ToKebab(value);

    static string ToKebab(T value)
    {
        var pascal = value.ToString();
        var builder = new System.Text.StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(pascal[i]));
        }

        return builder.ToString();
    }
}
