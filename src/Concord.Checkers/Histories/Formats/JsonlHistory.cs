using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Concord.Checkers.Histories.Formats;

/// <summary>
/// Concord's own history format: JSON lines. The first line is a header naming the version and
/// the unit of every <c>time</c>; each further line is one event. See README.md for the grammar.
/// <code>
/// {"concordHistory":1,"timeUnit":"us"}
/// {"process":0,"type":"invoke","f":"write","key":"x","value":3,"time":100}
/// {"process":0,"type":"ok","f":"write","key":"x","value":3,"time":140}
/// </code>
/// </summary>
internal static class JsonlHistory
{
    public const int Version = 1;
    public const string HeaderField = "concordHistory";

    private static readonly string[] TimeUnitNames = ["sequence", "ns", "us", "ms"];

    public static History Read(IReadOnlyList<string> lines, string file)
    {
        HistoryBuilder? builder = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var lineNumber = i + 1;
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            using var document = ParseObject(lines[i], file, lineNumber);
            if (builder is null)
            {
                builder = new HistoryBuilder(ReadHeader(document.RootElement, file, lineNumber));
                continue;
            }

            var error = builder.TryAdd(ReadEvent(document.RootElement, file, lineNumber));
            if (error is not null)
            {
                throw new HistoryReadException(file, lineNumber, error);
            }
        }

        return builder is null
            ? throw new HistoryReadException(file, 1, $"the file is empty; expected the header {{\"{HeaderField}\":{Version},\"timeUnit\":\"us\"}}")
            : builder.Build(file);
    }

    public static void Write(History history, TextWriter writer)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber(HeaderField, Version);
            json.WriteString("timeUnit", TimeUnitNames[(int)history.TimeUnit]);
            json.WriteEndObject();
        }

        writer.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        writer.Write('\n');
        foreach (var historyEvent in history.Events)
        {
            buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("process", historyEvent.Process);
                json.WriteString("type", EventTypes.ToName(historyEvent.Type));
                json.WriteString("f", historyEvent.Function);
                if (historyEvent.Key is not null)
                {
                    json.WriteString("key", historyEvent.Key);
                }

                json.WritePropertyName("value");
                WriteValue(json, historyEvent.Value);
                json.WriteNumber("time", historyEvent.Time);
                json.WriteEndObject();
            }

            writer.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
            writer.Write('\n');
        }
    }

    private static JsonDocument ParseObject(string line, string file, int lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new HistoryReadException(file, lineNumber, "not valid JSON: " + e.Message);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new HistoryReadException(file, lineNumber, "expected a JSON object on each line");
        }

        return document;
    }

    private static HistoryTimeUnit ReadHeader(JsonElement header, string file, int line)
    {
        if (!header.TryGetProperty(HeaderField, out var version))
        {
            throw new HistoryReadException(file, line, $"expected the header {{\"{HeaderField}\":{Version},\"timeUnit\":\"us\"}} as the first line");
        }

        if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var number) || number != Version)
        {
            throw new HistoryReadException(file, line, $"unsupported {HeaderField} version {version} (this reader knows version {Version})");
        }

        HistoryTimeUnit? unit = null;
        foreach (var property in header.EnumerateObject())
        {
            if (property.NameEquals(HeaderField))
            {
                continue;
            }

            if (!property.NameEquals("timeUnit"))
            {
                throw new HistoryReadException(file, line, $"unknown header field \"{property.Name}\"");
            }

            var index = property.Value.ValueKind == JsonValueKind.String
                ? Array.IndexOf(TimeUnitNames, property.Value.GetString())
                : -1;
            unit = index >= 0
                ? (HistoryTimeUnit)index
                : throw new HistoryReadException(file, line, $"timeUnit must be one of {string.Join(", ", TimeUnitNames)}");
        }

        return unit ?? throw new HistoryReadException(file, line, "the header has no timeUnit");
    }

    private static HistoryEvent ReadEvent(JsonElement element, string file, int line)
    {
        int? process = null;
        EventType? type = null;
        string? function = null;
        string? key = null;
        var value = OperationValue.Nil;
        long? time = null;
        foreach (var property in element.EnumerateObject())
        {
            var v = property.Value;
            switch (property.Name)
            {
                case "process":
                    process = v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var p) && p >= 0
                        ? p
                        : throw new HistoryReadException(file, line, "process must be a non-negative integer");
                    break;
                case "type":
                    type = (v.ValueKind == JsonValueKind.String ? EventTypes.FromName(v.GetString()!) : null)
                        ?? throw new HistoryReadException(file, line, "type must be \"invoke\", \"ok\", \"fail\" or \"info\"");
                    break;
                case "f":
                    function = v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } f
                        ? f
                        : throw new HistoryReadException(file, line, "f must be a non-empty string such as \"read\"");
                    break;
                case "key":
                    key = v.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.String => v.GetString(),
                        _ => throw new HistoryReadException(file, line, "key must be a string or null"),
                    };
                    break;
                case "value":
                    value = ToValue(v, file, line);
                    break;
                case "time":
                    time = v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var t)
                        ? t
                        : throw new HistoryReadException(file, line, "time must be an integer");
                    break;
                default:
                    throw new HistoryReadException(file, line, $"unknown field \"{property.Name}\"");
            }
        }

        return new HistoryEvent(
            process ?? throw Missing("process"),
            type ?? throw Missing("type"),
            function ?? throw Missing("f"),
            key,
            value,
            time ?? throw Missing("time"),
            line);

        HistoryReadException Missing(string field) => new(file, line, $"the event has no \"{field}\"");
    }

    private static OperationValue ToValue(JsonElement element, string file, int line) => element.ValueKind switch
    {
        JsonValueKind.Null => OperationValue.Nil,
        JsonValueKind.Number => element.TryGetInt64(out var integer)
            ? OperationValue.Of(integer)
            : throw new HistoryReadException(file, line, $"value {element.GetRawText()} is not a 64-bit integer (only integers are supported)"),
        JsonValueKind.String => OperationValue.Of(element.GetString()!),
        JsonValueKind.Array => OperationValue.ListOf(element.EnumerateArray().Select(e => ToValue(e, file, line)).ToArray()),
        _ => throw new HistoryReadException(file, line, $"values must be null, integers, strings or arrays, found {element.ValueKind.ToString().ToLowerInvariant()}"),
    };

    private static void WriteValue(Utf8JsonWriter json, OperationValue value)
    {
        switch (value.Kind)
        {
            case OperationValueKind.Nil:
                json.WriteNullValue();
                break;
            case OperationValueKind.Integer:
                json.WriteNumberValue(value.Integer);
                break;
            case OperationValueKind.Text:
                json.WriteStringValue(value.Text);
                break;
            default:
                json.WriteStartArray();
                foreach (var item in value.Items)
                {
                    WriteValue(json, item);
                }

                json.WriteEndArray();
                break;
        }
    }
}
