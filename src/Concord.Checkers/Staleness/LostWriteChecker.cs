using System.Globalization;
using System.Text;
using Concord.Checkers.Histories;

namespace Concord.Checkers.Staleness;

/// <summary>An acknowledged write whose effect the final state does not show.</summary>
public sealed record LostWrite(Operation Write, string Reason);

public sealed record LostWriteReport(
    int AcknowledgedWriteCount,
    IReadOnlyList<LostWrite> LostWrites,
    IReadOnlyList<string?> KeysWithUnexplainedFinalValue)
{
    public int LostCount => LostWrites.Count;

    public double LostRate => AcknowledgedWriteCount == 0 ? 0 : LostCount / (double)AcknowledgedWriteCount;

    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{LostCount} lost write(s) of {AcknowledgedWriteCount} acknowledged ({LostRate * 100:F2}%)");
        if (KeysWithUnexplainedFinalValue.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {KeysWithUnexplainedFinalValue.Count} key(s) end with a value no write wrote");
        }

        return text.Append('.').ToString();
    }
}

/// <summary>
/// Finds acknowledged writes missing from the final state read after quiescence (all clients
/// stopped, replication settled). Needs unique written values, as <see cref="StaleReadChecker"/>.
/// An acknowledged write is lost when
/// <list type="bullet">
/// <item>it strictly follows (was invoked after the completion of) the write whose value the
/// key ends with, or any write at all when the key ends with its initial value; or</item>
/// <item>it is an append whose value the final value does not contain, and no put or write that
/// may have taken effect could have been ordered after it (which would legitimately erase it).</item>
/// </list>
/// A key that is absent from the final state is read as nil (absent).
/// </summary>
public static class LostWriteChecker
{
    /// <summary>Checks a keyed history against the final value of each key.</summary>
    /// <exception cref="ArgumentException">The history has keyless operations, or a value is written twice.</exception>
    public static LostWriteReport Check(History history, IReadOnlyDictionary<string, OperationValue> finalValueByKey)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(finalValueByKey);
        return Check(history, key => key is not null
            ? finalValueByKey.GetValueOrDefault(key, OperationValue.Nil)
            : throw new ArgumentException("The history has operations without a key; use the overload that takes a single final value."));
    }

    /// <summary>Checks a history of one keyless object (a single register) against its final value.</summary>
    public static LostWriteReport Check(History history, OperationValue finalValue)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(finalValue);
        return Check(history, key => key is null
            ? finalValue
            : throw new ArgumentException($"The history has operations on key {OperationValue.Of(key)}; use the overload that takes a final value per key."));
    }

    private static LostWriteReport Check(History history, Func<string?, OperationValue> finalValueOf)
    {
        var acknowledged = 0;
        var lost = new List<LostWrite>();
        var unexplainedKeys = new List<string?>();
        foreach (var key in KeyWrites.Group(history))
        {
            var finalValue = finalValueOf(key.Key);
            var source = key.SourceOf(finalValue, out var explained);
            if (!explained)
            {
                unexplainedKeys.Add(key.Key);
            }

            foreach (var write in key.Writes.Where(w => w.IsAcknowledged))
            {
                acknowledged++;
                if (write == source)
                {
                    continue;
                }

                if (explained && (source is null || KeyWrites.Precedes(source, write)))
                {
                    var after = source is null ? "the key ends with its initial value" : $"the key ends with the value of {source}, which completed before it began";
                    lost.Add(new LostWrite(write, $"{after} (final value {finalValue})"));
                }
                else if (KeyWrites.IsAppend(write) && !Contains(finalValue, write.Input.Text) && !MayBeOverwrittenAfter(key, write))
                {
                    lost.Add(new LostWrite(write, $"the final value {finalValue} does not contain the appended {write.Input}"));
                }
            }
        }

        return new LostWriteReport(acknowledged, lost, unexplainedKeys);
    }

    private static bool Contains(OperationValue finalValue, string appended) =>
        finalValue.Kind == OperationValueKind.Text && finalValue.Text.Contains(appended, StringComparison.Ordinal);

    private static bool MayBeOverwrittenAfter(KeyWrites key, Operation append) =>
        key.Writes.Any(w => KeyWrites.IsOverwrite(w) && !KeyWrites.Precedes(w, append));
}
