using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

/// <summary>
/// The errors found in one scenario file. Readers report here and carry on instead of throwing,
/// so a single pass finds every mistake; <see cref="ThrowIfAny"/> ends the load.
/// </summary>
internal sealed class ScenarioDiagnostics(string file)
{
    readonly List<ScenarioError> errors = [];

    public bool HasErrors => errors.Count > 0;

    /// <summary>How many errors so far: a reader compares it before and after a section to tell whether that section was sound.</summary>
    public int Count => errors.Count;

    public void Report(YamlNode at, string field, string message) => Report(at.Start, field, message);

    public void Report(Mark at, string field, string message) =>
        errors.Add(new ScenarioError(file, Clamp(at.Line), Clamp(at.Column), field, message));

    public void ThrowIfAny()
    {
        if (errors.Count > 0)
        {
            // Stable sort: errors at the same position keep the order the reader found them in.
            throw new ScenarioException([.. errors.OrderBy(e => e.Line).ThenBy(e => e.Column)]);
        }
    }

    static int Clamp(long value) => value > int.MaxValue ? int.MaxValue : (int)value;
}
