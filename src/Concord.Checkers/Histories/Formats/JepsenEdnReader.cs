namespace Concord.Checkers.Histories.Formats;

/// <summary>
/// Reads Jepsen operations written as EDN maps, one per line
/// (<c>{:process 0, :type :invoke, :f :get, :key "5", :value nil}</c>) or inside top-level
/// vectors. Uses <c>:process</c>, <c>:type</c>, <c>:f</c>, <c>:key</c>, <c>:value</c> and
/// <c>:time</c>; other keys (<c>:index</c>, <c>:error</c>, ...) are ignored and nemesis
/// operations skipped. When every operation has a <c>:time</c>, times are Jepsen's nanoseconds;
/// otherwise an event's time is its position in the file.
/// </summary>
internal static class JepsenEdnReader
{
    private sealed record Parsed(int Line, int Process, EventType Type, string Function, string? Key, OperationValue Value, long? Time);

    public static History Read(string text, string file)
    {
        var parsed = new List<Parsed>();
        var parser = new EdnParser(text);
        try
        {
            while (parser.TryReadNext(out var form, out var line))
            {
                if (form.Kind == EdnKind.Map)
                {
                    AddOperation(form, line, file, parsed);
                }
                else if (form.Kind is EdnKind.Vector or EdnKind.List)
                {
                    // A whole history printed as one vector: each element must be an operation map.
                    foreach (var element in form.Items)
                    {
                        if (element.Kind != EdnKind.Map)
                        {
                            throw new HistoryReadException(file, line, $"expected operation maps inside the vector, found {Describe(element)}");
                        }

                        AddOperation(element, line, file, parsed);
                    }
                }
                else
                {
                    throw new HistoryReadException(file, line, $"expected an operation map {{:process ..., :type ..., :f ...}}, found {Describe(form)}");
                }
            }
        }
        catch (EdnSyntaxException e)
        {
            throw new HistoryReadException(file, e.Line, e.Reason);
        }

        if (parsed.Count == 0)
        {
            throw new HistoryReadException(file, 1, "no operations found");
        }

        var useRecordedTimes = parsed.TrueForAll(p => p.Time is not null);
        var builder = new HistoryBuilder(useRecordedTimes ? HistoryTimeUnit.Nanoseconds : HistoryTimeUnit.Sequence);
        for (var i = 0; i < parsed.Count; i++)
        {
            var p = parsed[i];
            var time = useRecordedTimes ? p.Time!.Value : i + 1;
            var error = builder.TryAdd(new HistoryEvent(p.Process, p.Type, p.Function, p.Key, p.Value, time, p.Line));
            if (error is not null)
            {
                throw new HistoryReadException(file, p.Line, error);
            }
        }

        return builder.Build(file);
    }

    private static void AddOperation(EdnValue map, int line, string file, List<Parsed> parsed)
    {
        if (!map.TryGet("process", out var process))
        {
            throw new HistoryReadException(file, line, "the operation has no :process");
        }

        if (process.Kind == EdnKind.Keyword)
        {
            return; // :nemesis operations are faults, not operations on the object under test
        }

        if (process.Kind != EdnKind.Integer || process.Integer is < 0 or > int.MaxValue)
        {
            throw new HistoryReadException(file, line, $":process must be a non-negative integer or a keyword, found {Describe(process)}");
        }

        if (!map.TryGet("type", out var type) || type.Kind != EdnKind.Keyword)
        {
            throw new HistoryReadException(file, line, ":type must be one of :invoke, :ok, :fail, :info");
        }

        var eventType = EventTypes.FromName(type.Text)
            ?? throw new HistoryReadException(file, line, $"unknown :type :{type.Text} (expected :invoke, :ok, :fail or :info)");
        if (!map.TryGet("f", out var function) || function.Kind is not (EdnKind.Keyword or EdnKind.Symbol or EdnKind.String) || function.Text.Length == 0)
        {
            throw new HistoryReadException(file, line, ":f must be a keyword such as :get");
        }

        string? key = null;
        if (map.TryGet("key", out var keyValue))
        {
            key = keyValue.Kind switch
            {
                EdnKind.Nil => null,
                EdnKind.String or EdnKind.Keyword or EdnKind.Symbol => keyValue.Text,
                EdnKind.Integer => keyValue.ToString(),
                _ => throw new HistoryReadException(file, line, $":key must be a string, keyword or integer, found {Describe(keyValue)}"),
            };
        }

        var value = map.TryGet("value", out var rawValue) ? ToValue(rawValue, file, line) : OperationValue.Nil;
        long? time = null;
        if (map.TryGet("time", out var timeValue))
        {
            time = timeValue.Kind == EdnKind.Integer
                ? timeValue.Integer
                : throw new HistoryReadException(file, line, $":time must be an integer, found {Describe(timeValue)}");
        }

        parsed.Add(new Parsed(line, (int)process.Integer, eventType, function.Text, key, value, time));
    }

    private static OperationValue ToValue(EdnValue raw, string file, int line)
    {
        try
        {
            return EdnValues.ToOperationValue(raw);
        }
        catch (EdnSyntaxException e)
        {
            throw new HistoryReadException(file, line, ":value: " + e.Reason);
        }
    }

    private static string Describe(EdnValue value) => value.Kind switch
    {
        EdnKind.Map => "a map",
        EdnKind.Vector => "a vector",
        EdnKind.List => "a list",
        EdnKind.Set => "a set",
        _ => value.ToString(),
    };
}
