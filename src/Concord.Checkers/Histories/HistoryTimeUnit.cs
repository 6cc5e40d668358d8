namespace Concord.Checkers.Histories;

/// <summary>
/// What a history's integer times count. <see cref="Sequence"/> means only their order is known
/// (Jepsen logs: the line number), so durations such as staleness in milliseconds are undefined.
/// </summary>
public enum HistoryTimeUnit
{
    Sequence,
    Nanoseconds,
    Microseconds,
    Milliseconds,
}

public static class HistoryTimeUnitExtensions
{
    /// <summary>The duration in milliseconds, or null when times are only a sequence.</summary>
    public static double? ToMilliseconds(this HistoryTimeUnit unit, long duration) => unit switch
    {
        HistoryTimeUnit.Nanoseconds => duration / 1_000_000.0,
        HistoryTimeUnit.Microseconds => duration / 1_000.0,
        HistoryTimeUnit.Milliseconds => duration,
        _ => null,
    };
}
