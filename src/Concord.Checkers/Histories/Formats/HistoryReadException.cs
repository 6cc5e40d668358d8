namespace Concord.Checkers.Histories.Formats;

/// <summary>
/// A history file could not be read. <see cref="Exception.Message"/> is <c>file:line: reason</c>,
/// ready for a command-line user; the parts are available separately.
/// </summary>
public sealed class HistoryReadException : Exception
{
    public HistoryReadException(string file, int line, string reason)
        : base($"{file}:{line}: {reason}")
    {
        File = file;
        Line = line;
        Reason = reason;
    }

    /// <summary>The source name given to the reader (usually the path).</summary>
    public string File { get; }

    /// <summary>1-based line of the offending text.</summary>
    public int Line { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}
