namespace Concord.Cli;

/// <summary>The exit codes every <c>concord</c> command shares (DESIGN.md).</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A violation was found (for <c>check</c>: not linearizable), or what was asked about is not there.</summary>
    public const int Violation = 1;

    /// <summary>Bad usage or unreadable input; the message says which argument, file, line or field.</summary>
    public const int Usage = 2;

    /// <summary>The answer is unknown, e.g. a checker ran out of its time budget.</summary>
    public const int Unknown = 3;
}

/// <summary>A user's mistake that the parser cannot see (e.g. a directory that is not a cluster): exit 2, no stack trace.</summary>
internal sealed class UsageException(string message) : Exception(message);
