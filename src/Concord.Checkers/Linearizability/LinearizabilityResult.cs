using System.Globalization;
using System.Text;
using Concord.Checkers.Histories;

namespace Concord.Checkers.Linearizability;

public enum LinearizabilityVerdict
{
    /// <summary>A linearization exists for every partition (and was re-verified).</summary>
    Linearizable,

    /// <summary>Some partition has no linearization: the search was exhaustive.</summary>
    NotLinearizable,

    /// <summary>The budget ran out before a verdict: never read this as a pass.</summary>
    Unknown,
}

/// <summary>The verdict for one partition (one key).</summary>
public sealed record PartitionResult(
    string? Key,
    LinearizabilityVerdict Verdict,
    int OperationCount,
    long Steps,
    int CachedStates,
    string? UnknownReason);

/// <summary>
/// The outcome of <see cref="LinearizabilityChecker.Check"/>: NotLinearizable if any partition
/// is, else Unknown if any partition ran out of budget, else Linearizable. The check stops at the
/// first violating partition, so <see cref="Partitions"/> lists only those checked.
/// </summary>
public sealed record LinearizabilityResult(
    LinearizabilityVerdict Verdict,
    string ModelName,
    string? HistorySource,
    IReadOnlyList<PartitionResult> Partitions,
    LinearizabilityViolation? Violation,
    string? UnknownReason)
{
    public long Steps => Partitions.Sum(p => p.Steps);

    /// <summary>One paragraph for a terminal; includes the violation's explanation.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{Verdict switch { LinearizabilityVerdict.Linearizable => "Linearizable", LinearizabilityVerdict.NotLinearizable => "NOT linearizable", _ => "Unknown" }}" +
            $" ({ModelName} model, {Partitions.Count} partition(s) checked, {Steps} steps)");
        if (UnknownReason is not null)
        {
            text.Append(": ").Append(UnknownReason);
        }

        text.Append('\n');
        if (Violation is not null)
        {
            text.Append(Violation.Describe());
        }

        return text.ToString();
    }
}

/// <summary>An operation in a linearization, with the model state right after it.</summary>
public sealed record LinearizedOperation(Operation Operation, string StateAfter);

/// <summary>An operation that could have come next after the longest prefix, and why it does not lead anywhere.</summary>
public sealed record StuckOperation(Operation Operation, bool ModelRejectsIt, string Reason);

/// <summary>
/// Why a partition is not linearizable, in a window small enough to read. The search's deepest
/// point is <see cref="LongestPrefix"/>, a linearizable ordering of that many operations; after it,
/// <see cref="Blocked"/> had to take effect before its return, yet none of the operations that
/// could come next (<see cref="Stuck"/>, which includes <see cref="Blocked"/>) leads to a full
/// linearization. <see cref="Window"/> is what to draw: the stuck operations and the prefix
/// operations concurrent with them.
/// </summary>
public sealed record LinearizabilityViolation(
    string ModelName,
    string? PartitionKey,
    IReadOnlyList<LinearizedOperation> LongestPrefix,
    string InitialState,
    string StateAfterPrefix,
    Operation Blocked,
    IReadOnlyList<StuckOperation> Stuck,
    IReadOnlyList<Operation> Window)
{
    private const int PrefixLinesMax = 8;

    public string Describe()
    {
        var text = new StringBuilder();
        var key = PartitionKey is null ? "" : $" for key {OperationValue.Of(PartitionKey)}";
        text.Append(CultureInfo.InvariantCulture,
            $"The longest linearizable prefix{key} orders {LongestPrefix.Count} operation(s) and leaves the state {StateAfterPrefix}.\n");
        if (LongestPrefix.Count > 0)
        {
            var shown = LongestPrefix.Skip(Math.Max(0, LongestPrefix.Count - PrefixLinesMax)).ToList();
            text.Append(CultureInfo.InvariantCulture, $"Its last {shown.Count}:\n");
            foreach (var step in shown)
            {
                text.Append("  ").Append(step.Operation).Append(Lines(step.Operation)).Append("  => ").Append(step.StateAfter).Append('\n');
            }
        }

        text.Append("Then ").Append(Blocked).Append(Lines(Blocked))
            .Append(" must take effect before it returns, but no operation can come next:\n");
        foreach (var stuck in Stuck)
        {
            text.Append("  ").Append(stuck.Operation).Append(Lines(stuck.Operation)).Append(": ").Append(stuck.Reason).Append('\n');
        }

        return text.ToString();
    }

    internal static string Lines(Operation operation) => (operation.InvokeLine, operation.CompleteLine) switch
    {
        ({ } invoke, { } complete) => $" (lines {invoke}-{complete})",
        ({ } invoke, null) => $" (line {invoke})",
        _ => "",
    };
}
