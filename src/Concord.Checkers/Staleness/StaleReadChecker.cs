using System.Globalization;
using System.Text;
using Concord.Checkers.Histories;

namespace Concord.Checkers.Staleness;

/// <summary>
/// A read that returned an older version than one acknowledged before the read began.
/// <see cref="SourceWrite"/> wrote the value read (null: the initial value);
/// <see cref="MissedWrites"/> are the acknowledged writes that strictly followed it and completed
/// before the read was invoked. <see cref="Staleness"/> is how long the oldest missed write had
/// been acknowledged when the read began, in the history's time unit.
/// </summary>
public sealed record StaleRead(
    Operation Read,
    Operation? SourceWrite,
    IReadOnlyList<Operation> MissedWrites,
    long Staleness,
    double? StalenessMs)
{
    /// <summary>How many acknowledged versions the read missed.</summary>
    public int VersionsBehind => MissedWrites.Count;
}

public sealed record StaleReadReport(
    int ReadCount,
    IReadOnlyList<StaleRead> StaleReads,
    IReadOnlyList<Operation> UnexplainedReads,
    HistoryTimeUnit TimeUnit)
{
    public int StaleCount => StaleReads.Count;

    /// <summary>Stale reads over acknowledged reads (0 when there are no reads).</summary>
    public double StaleRate => ReadCount == 0 ? 0 : StaleCount / (double)ReadCount;

    public int MaxVersionsBehind => StaleReads.Count == 0 ? 0 : StaleReads.Max(s => s.VersionsBehind);

    /// <summary>Null when the history's times are only a sequence.</summary>
    public double? MaxStalenessMs => StaleReads.Count == 0 ? 0 : StaleReads.Max(s => s.StalenessMs);

    public double? MeanStalenessMs => StaleReads.Count == 0 ? 0 : StaleReads.Average(s => s.StalenessMs);

    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{StaleCount} stale read(s) of {ReadCount} ({StaleRate * 100:F2}%)");
        if (StaleCount > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", up to {MaxVersionsBehind} version(s) behind");
            if (MaxStalenessMs is { } ms)
            {
                text.Append(CultureInfo.InvariantCulture, $" and {ms:F3} ms stale (mean {MeanStalenessMs:F3} ms)");
            }
        }

        if (UnexplainedReads.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {UnexplainedReads.Count} read(s) returned a value no write wrote");
        }

        return text.Append('.').ToString();
    }
}

/// <summary>
/// Finds stale reads in register and key-value histories where every write writes a unique
/// value (append histories: every appended value is unique). Conservative by construction: a
/// read is stale only when the write it saw <i>completed before</i> another acknowledged write was
/// <i>invoked</i>, and that write completed before the read was invoked, so no linearization
/// could explain it. Weaker than linearizability checking, but it measures how stale.
/// </summary>
public static class StaleReadChecker
{
    /// <exception cref="ArgumentException">Two writes to a key write the same value.</exception>
    public static StaleReadReport Check(History history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var readCount = 0;
        var stale = new List<StaleRead>();
        var unexplained = new List<Operation>();
        foreach (var key in KeyWrites.Group(history))
        {
            var acknowledgedWrites = key.Writes.Where(w => w.IsAcknowledged).ToList();
            foreach (var read in key.Reads)
            {
                readCount++;
                var source = key.SourceOf(read.Output, out var explained);
                if (!explained)
                {
                    unexplained.Add(read);
                    continue;
                }

                var missed = acknowledgedWrites
                    .Where(w => w != source && w.CompleteTime < read.InvokeTime && (source is null || KeyWrites.Precedes(source, w)))
                    .ToList();
                if (missed.Count == 0)
                {
                    continue;
                }

                var staleness = read.InvokeTime - missed.Min(w => w.CompleteTime!.Value);
                Invariant.Assert(staleness > 0, "a missed write completed before the read was invoked");
                stale.Add(new StaleRead(read, source, missed, staleness, history.TimeUnit.ToMilliseconds(staleness)));
            }
        }

        return new StaleReadReport(readCount, stale, unexplained, history.TimeUnit);
    }
}
