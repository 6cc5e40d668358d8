using System.Reflection;
using Concord.Experiments.Commerce;

namespace Concord.Lab.Scenarios;

/// <summary>
/// The built-in scenarios: the YAML files in <c>Scenarios/Builtin/</c>, embedded in this assembly.
/// They go through <see cref="ScenarioLoader"/> like any user's file, so <c>concord lab --show NAME</c>
/// prints a file that can be copied, edited and run with <c>concord lab FILE</c>.
/// </summary>
public static class ScenarioCatalog
{
    const string ResourcePrefix = "Concord.Lab.Scenarios.Builtin.";
    const string Extension = ".yaml";

    static readonly Assembly Resources = typeof(ScenarioCatalog).Assembly;

    /// <summary>The built-in scenario names, sorted (each is its file name without <c>.yaml</c>).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        .. Resources.GetManifestResourceNames()
            .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal) && r.EndsWith(Extension, StringComparison.Ordinal))
            .Select(r => r[ResourcePrefix.Length..^Extension.Length])
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>The scenario's YAML text, as shipped.</summary>
    /// <exception cref="ScenarioException">No built-in scenario has this name (the message lists them).</exception>
    public static string Text(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            var hint = Suggestions.DidYouMean(name, Names);
            throw new ScenarioException([new ScenarioError("", 0, 0, "", $"no built-in scenario is named {YamlValues.Quote(name)}{hint}; the built-in scenarios are {string.Join(", ", Names)} (or give the path of a .yaml file)")]);
        }

        using var stream = Resources.GetManifestResourceStream(ResourcePrefix + name + Extension)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The parsed scenario.</summary>
    /// <exception cref="ScenarioException">No built-in scenario has this name.</exception>
    public static PlatformScenario Load(string name) => ScenarioLoader.Parse(Text(name), name + Extension);
}
