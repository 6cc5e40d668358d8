namespace Concord.Lab.Scenarios;

/// <summary>
/// One mistake in a scenario file, located precisely enough to fix it without reading the loader:
/// <c>scenarios/x.yaml:14:5: workload.mix.order: must be a number between 0 and 1; got "lots"</c>.
/// </summary>
/// <param name="File">The file name given to the loader (usually the path as the user typed it); empty when no file is involved.</param>
/// <param name="Line">1-based line; 0 when the mistake has no position (e.g. the file does not exist).</param>
/// <param name="Column">1-based column; 0 when the mistake has no position.</param>
/// <param name="Field">Path of the field, e.g. <c>variants[1].inventory</c> (list indices are 0-based); empty for the file as a whole.</param>
/// <param name="Message">What is wrong and what would be right, without the location.</param>
public sealed record ScenarioError(string File, int Line, int Column, string Field, string Message)
{
    /// <summary><c>file:line:column: field: message</c>, leaving out the parts that are empty or zero.</summary>
    public override string ToString()
    {
        var location = File;
        if (Line > 0)
        {
            location += Column > 0 ? $":{Line}:{Column}" : $":{Line}";
        }

        var prefix = location.Length > 0 ? location + ": " : "";
        return Field.Length > 0 ? $"{prefix}{Field}: {Message}" : prefix + Message;
    }
}

/// <summary>
/// A scenario could not be loaded. Carries every mistake found, not just the first, so one edit
/// can fix them all; <see cref="Exception.Message"/> lists them one per line, ready for a
/// command-line user (no stack trace needed).
/// </summary>
public sealed class ScenarioException : Exception
{
    /// <summary>The message lists at most this many errors (a file of garbage should not flood the terminal); <see cref="Errors"/> keeps all of them.</summary>
    const int ErrorsInMessageMax = 50;

    public ScenarioException(IReadOnlyList<ScenarioError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    /// <summary>Sorted by position in the file; never empty.</summary>
    public IReadOnlyList<ScenarioError> Errors { get; }

    static string Describe(IReadOnlyList<ScenarioError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentOutOfRangeException.ThrowIfZero(errors.Count);
        var lines = errors.Take(ErrorsInMessageMax).Select(e => e.ToString()).ToList();
        if (errors.Count > ErrorsInMessageMax)
        {
            lines.Add($"... and {errors.Count - ErrorsInMessageMax} more errors");
        }

        return string.Join('\n', lines);
    }
}
