namespace Concord.Checkers.Histories.Formats;

/// <summary>
/// Reads operation lines that Jepsen's <c>jepsen.util</c> logger writes, such as
/// <c>INFO  jepsen.util - 3	:invoke	:cas	[1 4]</c>: process, type, function and value, separated by
/// whitespace, each an EDN value. Other log lines, and nemesis lines (a keyword process), are
/// skipped. These logs carry no usable times, so the time of an event is its line number.
/// </summary>
internal static class JepsenLogReader
{
    public const string Marker = "jepsen.util - ";

    public static History Read(IReadOnlyList<string> lines, string file)
    {
        var builder = new HistoryBuilder(HistoryTimeUnit.Sequence);
        var operationLines = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            var lineNumber = i + 1;
            var markerAt = lines[i].IndexOf(Marker, StringComparison.Ordinal);
            if (markerAt < 0)
            {
                continue;
            }

            var historyEvent = ParseOperationLine(lines[i][(markerAt + Marker.Length)..], file, lineNumber);
            if (historyEvent is null)
            {
                continue;
            }

            operationLines++;
            var error = builder.TryAdd(historyEvent);
            if (error is not null)
            {
                throw new HistoryReadException(file, lineNumber, error);
            }
        }

        return operationLines > 0
            ? builder.Build(file)
            : throw new HistoryReadException(file, 1, $"no Jepsen operation lines ('{Marker}PROCESS :TYPE :F VALUE') found");
    }

    private static HistoryEvent? ParseOperationLine(string tail, string file, int lineNumber)
    {
        try
        {
            var parser = new EdnParser(tail, lineNumber);
            if (!parser.TryReadNext(out var process, out _) || process.Kind is not (EdnKind.Integer or EdnKind.Keyword))
            {
                return null; // jepsen.util also logs prose; only "PROCESS :TYPE ..." lines are operations
            }

            if (process.Kind == EdnKind.Keyword)
            {
                return null; // :nemesis and other non-client actors do not operate on the object
            }

            if (process.Integer is < 0 or > int.MaxValue)
            {
                throw new HistoryReadException(file, lineNumber, $"process {process.Integer} is out of range");
            }

            if (!parser.TryReadNext(out var type, out _) || type.Kind != EdnKind.Keyword)
            {
                throw new HistoryReadException(file, lineNumber, "expected a type (:invoke, :ok, :fail or :info) after the process");
            }

            var eventType = EventTypes.FromName(type.Text)
                ?? throw new HistoryReadException(file, lineNumber, $"unknown type :{type.Text} (expected :invoke, :ok, :fail or :info)");
            if (!parser.TryReadNext(out var function, out _) || function.Kind is not (EdnKind.Keyword or EdnKind.Symbol))
            {
                throw new HistoryReadException(file, lineNumber, "expected a function such as :read after the type");
            }

            var value = parser.TryReadNext(out var raw, out _) ? EdnValues.ToOperationValue(raw) : OperationValue.Nil;
            if (parser.TryReadNext(out var extra, out _))
            {
                throw new HistoryReadException(file, lineNumber, $"unexpected {extra} after the value");
            }

            return new HistoryEvent((int)process.Integer, eventType, function.Text, null, value, lineNumber, lineNumber);
        }
        catch (EdnSyntaxException e)
        {
            throw new HistoryReadException(file, lineNumber, e.Reason);
        }
    }
}

internal static class EventTypes
{
    public static EventType? FromName(string name) => name switch
    {
        "invoke" => EventType.Invoke,
        "ok" => EventType.Ok,
        "fail" => EventType.Fail,
        "info" => EventType.Info,
        _ => null,
    };

    public static string ToName(EventType type) => type switch
    {
        EventType.Invoke => "invoke",
        EventType.Ok => "ok",
        EventType.Fail => "fail",
        _ => "info",
    };
}

internal static class EdnValues
{
    /// <summary>
    /// Converts an EDN value to an operation value. Keywords become strings with their colon
    /// (<c>:timed-out</c>), symbols and booleans their text, vectors, lists and sets lists.
    /// </summary>
    public static OperationValue ToOperationValue(EdnValue value) => value.Kind switch
    {
        EdnKind.Nil => OperationValue.Nil,
        EdnKind.Integer => OperationValue.Of(value.Integer),
        EdnKind.String => OperationValue.Of(value.Text),
        EdnKind.Keyword => OperationValue.Of(":" + value.Text),
        EdnKind.Symbol => OperationValue.Of(value.Text),
        EdnKind.Boolean => OperationValue.Of(value.ToString()),
        EdnKind.Vector or EdnKind.List or EdnKind.Set => OperationValue.ListOf(value.Items.Select(ToOperationValue)),
        _ => throw new EdnSyntaxException(0, "maps are not supported as operation values"),
    };
}
