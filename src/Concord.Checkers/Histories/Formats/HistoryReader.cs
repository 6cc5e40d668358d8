namespace Concord.Checkers.Histories.Formats;

public enum HistoryFormat
{
    /// <summary>Decide from the content; see <see cref="HistoryReader.Detect"/>.</summary>
    Auto,

    /// <summary>Concord's JSON lines (header line, then one event per line).</summary>
    Jsonl,

    /// <summary>Jepsen <c>jepsen.util</c> log lines: <c>INFO jepsen.util - 3 :invoke :cas [1 4]</c>.</summary>
    JepsenLog,

    /// <summary>Jepsen operations as EDN maps: <c>{:process 0, :type :invoke, :f :get, :key "5", :value nil}</c>.</summary>
    JepsenEdn,
}

/// <summary>Reads histories in any supported format and writes Concord's JSON lines.</summary>
public static class HistoryReader
{
    private const int DetectionLinesMax = 1000;

    /// <summary>The names the CLI accepts for <c>--format</c>.</summary>
    public static IReadOnlyList<string> FormatNames { get; } = ["auto", "jsonl", "jepsen-log", "jepsen-edn"];

    /// <summary>Parses a <c>--format</c> name; throws <see cref="ArgumentException"/> listing the valid names.</summary>
    public static HistoryFormat ParseFormatName(string name)
    {
        var index = FormatNames.ToList().IndexOf(name);
        return index >= 0
            ? (HistoryFormat)index
            : throw new ArgumentException($"Unknown history format '{name}'; expected one of {string.Join(", ", FormatNames)}.", nameof(name));
    }

    /// <summary>Reads a whole history. <paramref name="source"/> names it in errors and reports.</summary>
    /// <exception cref="HistoryReadException">The content is not a valid history in that format.</exception>
    public static History Read(TextReader reader, string source, HistoryFormat format = HistoryFormat.Auto)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return Parse(reader.ReadToEnd(), source, format);
    }

    /// <inheritdoc cref="Read"/>
    public static History Parse(string text, string source, HistoryFormat format = HistoryFormat.Auto)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        var lines = SplitLines(text);
        if (format == HistoryFormat.Auto)
        {
            format = Detect(lines, source);
        }

        return format switch
        {
            HistoryFormat.Jsonl => JsonlHistory.Read(lines, source),
            HistoryFormat.JepsenLog => JepsenLogReader.Read(lines, source),
            HistoryFormat.JepsenEdn => JepsenEdnReader.Read(text, source),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown history format"),
        };
    }

    /// <summary>
    /// Recognizes the format from the first non-blank line: <c>{"</c> is JSON lines, <c>{:</c> or
    /// <c>[</c> is EDN, and a <c>jepsen.util - </c> line (possibly after other log lines) is a Jepsen log.
    /// </summary>
    /// <exception cref="HistoryReadException">No format matches.</exception>
    public static HistoryFormat Detect(string text, string source) => Detect(SplitLines(text), source);

    /// <summary>Writes the history in Concord's JSON-lines format.</summary>
    public static void WriteJsonl(History history, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(writer);
        JsonlHistory.Write(history, writer);
    }

    private static HistoryFormat Detect(IReadOnlyList<string> lines, string source)
    {
        var first = -1;
        for (var i = 0; i < lines.Count && i < DetectionLinesMax; i++)
        {
            var line = lines[i].AsSpan().Trim();
            if (line.IsEmpty)
            {
                continue;
            }

            if (line.Contains(JepsenLogReader.Marker, StringComparison.Ordinal))
            {
                return HistoryFormat.JepsenLog;
            }

            if (first >= 0)
            {
                continue; // only a Jepsen log may start with unrelated lines
            }

            first = i;
            if (line[0] == '[')
            {
                return HistoryFormat.JepsenEdn;
            }

            if (line[0] == '{')
            {
                var afterBrace = line[1..].TrimStart();
                if (afterBrace.StartsWith("\""))
                {
                    return HistoryFormat.Jsonl;
                }

                if (afterBrace.StartsWith(":"))
                {
                    return HistoryFormat.JepsenEdn;
                }
            }
        }

        throw first < 0
            ? new HistoryReadException(source, 1, "the file is empty")
            : new HistoryReadException(source, first + 1,
                "cannot tell the format: expected a Concord JSON-lines header ({\"concordHistory\":1,...}), " +
                "a Jepsen EDN map ({:process ...}) or Jepsen log lines (jepsen.util - ...); name it with --format");
    }

    private static string[] SplitLines(string text) => text.Split('\n') is var lines
        ? Array.ConvertAll(lines, l => l.EndsWith('\r') ? l[..^1] : l)
        : [];
}
