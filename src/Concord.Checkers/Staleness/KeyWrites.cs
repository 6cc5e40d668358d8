using Concord.Checkers.Histories;

namespace Concord.Checkers.Staleness;

/// <summary>
/// The writes and reads of one key, indexed by written value, for checkers that need each write
/// to write a unique value (so a read names the write it saw). Functions: <c>read</c>/<c>get</c>
/// read; <c>write</c>/<c>put</c> and acknowledged <c>cas [expected new]</c> overwrite;
/// <c>append</c> appends. Other functions are ignored.
/// </summary>
internal sealed class KeyWrites
{
    private readonly Dictionary<OperationValue, Operation> overwriteByValue = [];
    private readonly Dictionary<string, Operation> appendByValue = new(StringComparer.Ordinal);
    private readonly SortedSet<int> appendLengths = [];

    private KeyWrites(string? key) => Key = key;

    public string? Key { get; }

    /// <summary>Writes that may have taken effect (acknowledged or indeterminate), in invoke order.</summary>
    public List<Operation> Writes { get; } = [];

    /// <summary>Acknowledged reads, in invoke order.</summary>
    public List<Operation> Reads { get; } = [];

    public static bool IsRead(Operation operation) => operation.Function is "read" or "get";

    public static bool IsAppend(Operation operation) => operation.Function == "append";

    public static bool IsOverwrite(Operation operation) => operation.Function is "write" or "put" or "cas";

    /// <summary>Groups by key in order of first appearance; throws <see cref="ArgumentException"/> when a value is written twice.</summary>
    public static List<KeyWrites> Group(History history)
    {
        var groups = new List<KeyWrites>();
        var byKey = new Dictionary<string, KeyWrites>(StringComparer.Ordinal);
        KeyWrites? keyless = null;
        foreach (var operation in history.Operations)
        {
            if (operation.Outcome == OperationOutcome.Fail || !(IsRead(operation) || IsAppend(operation) || IsOverwrite(operation)))
            {
                continue;
            }

            KeyWrites group;
            if (operation.Key is null)
            {
                group = keyless ??= Add(groups, new KeyWrites(null));
            }
            else if (!byKey.TryGetValue(operation.Key, out group!))
            {
                group = byKey[operation.Key] = Add(groups, new KeyWrites(operation.Key));
            }

            group.Include(operation);
        }

        return groups;
    }

    /// <summary>
    /// The write whose effect a value shows last, or null when the value is the initial one
    /// (nil or the empty string, unless some write wrote exactly that); <paramref name="explained"/>
    /// is false when no write could have produced the value.
    /// </summary>
    public Operation? SourceOf(OperationValue value, out bool explained)
    {
        explained = true;
        if (value.Kind == OperationValueKind.Text && appendByValue.Count > 0)
        {
            // Appended values are unique, so the longest one the value ends with is the last append it shows.
            var text = value.Text;
            foreach (var length in appendLengths.Reverse())
            {
                if (length <= text.Length && appendByValue.TryGetValue(text[^length..], out var append))
                {
                    return append;
                }
            }

            var put = overwriteByValue.Keys
                .Where(v => v.Kind == OperationValueKind.Text && text.StartsWith(v.Text, StringComparison.Ordinal))
                .MaxBy(v => v.Text.Length);
            if (put is not null && put.Text.Length == text.Length)
            {
                return overwriteByValue[put];
            }
        }
        else if (overwriteByValue.TryGetValue(value, out var write))
        {
            return write;
        }

        explained = value.IsNil || (value.Kind == OperationValueKind.Text && value.Text.Length == 0);
        return null;
    }

    /// <summary>The value an overwrite stores: its input, or the new value of a cas.</summary>
    public static OperationValue WrittenValue(Operation operation) =>
        operation.Function == "cas"
            ? operation.Input.Kind == OperationValueKind.List && operation.Input.Items.Length == 2
                ? operation.Input.Items[1]
                : throw new ArgumentException($"{Where(operation)}cas needs input [expected new], found {operation.Input}")
            : operation.Input;

    /// <summary>True when <paramref name="earlier"/> completed before <paramref name="later"/> was invoked (an indeterminate operation never completes).</summary>
    public static bool Precedes(Operation earlier, Operation later) =>
        earlier.IsAcknowledged && earlier.CompleteTime < later.InvokeTime;

    public static string Where(Operation operation) => operation.InvokeLine is { } line ? $"line {line}: " : "";

    private static KeyWrites Add(List<KeyWrites> groups, KeyWrites group)
    {
        groups.Add(group);
        return group;
    }

    private void Include(Operation operation)
    {
        if (IsRead(operation))
        {
            if (operation.IsAcknowledged)
            {
                Reads.Add(operation);
            }

            return;
        }

        // An indeterminate cas may have written its new value; an indeterminate write too.
        if (IsAppend(operation))
        {
            if (operation.Input.Kind != OperationValueKind.Text)
            {
                throw new ArgumentException($"{Where(operation)}append needs a string value, found {operation.Input}");
            }

            if (!appendByValue.TryAdd(operation.Input.Text, operation))
            {
                throw Duplicate(operation, appendByValue[operation.Input.Text]);
            }

            appendLengths.Add(operation.Input.Text.Length);
        }
        else
        {
            var value = WrittenValue(operation);
            if (!overwriteByValue.TryAdd(value, operation))
            {
                throw Duplicate(operation, overwriteByValue[value]);
            }
        }

        Writes.Add(operation);
    }

    private ArgumentException Duplicate(Operation second, Operation first) => new(
        $"{Where(second)}this checker needs every write to write a unique value, but {second} writes the same value as " +
        $"{first}{(first.InvokeLine is { } line ? $" (line {line})" : "")}{(Key is null ? "" : $" on key {OperationValue.Of(Key)}")}");
}
