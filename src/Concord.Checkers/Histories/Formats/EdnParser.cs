using System.Globalization;
using System.Text;

namespace Concord.Checkers.Histories.Formats;

internal enum EdnKind
{
    Nil,
    Boolean,
    Integer,
    String,
    Keyword,
    Symbol,
    Vector,
    List,
    Set,
    Map,
}

/// <summary>A parsed EDN value. Keywords and symbols keep their name without the colon.</summary>
internal sealed class EdnValue
{
    public static readonly EdnValue Nil = new(EdnKind.Nil);

    private EdnValue(EdnKind kind, long integer = 0, string? text = null, IReadOnlyList<EdnValue>? items = null)
    {
        Kind = kind;
        Integer = integer;
        Text = text ?? "";
        Items = items ?? [];
    }

    public EdnKind Kind { get; }

    /// <summary>The integer, or 1/0 for a boolean.</summary>
    public long Integer { get; }

    /// <summary>The string's content, or the keyword's or symbol's name.</summary>
    public string Text { get; }

    /// <summary>Elements of a vector, list or set; alternating keys and values of a map.</summary>
    public IReadOnlyList<EdnValue> Items { get; }

    public static EdnValue Boolean(bool value) => new(EdnKind.Boolean, value ? 1 : 0);

    public static EdnValue Of(long value) => new(EdnKind.Integer, value);

    public static EdnValue String(string value) => new(EdnKind.String, text: value);

    public static EdnValue Keyword(string name) => new(EdnKind.Keyword, text: name);

    public static EdnValue Symbol(string name) => new(EdnKind.Symbol, text: name);

    public static EdnValue Collection(EdnKind kind, IReadOnlyList<EdnValue> items) => new(kind, items: items);

    public bool IsKeyword(string name) => Kind == EdnKind.Keyword && string.Equals(Text, name, StringComparison.Ordinal);

    /// <summary>Looks up a keyword key in a map.</summary>
    public bool TryGet(string keyword, out EdnValue value)
    {
        for (var i = 0; i + 1 < Items.Count; i += 2)
        {
            if (Items[i].IsKeyword(keyword))
            {
                value = Items[i + 1];
                return true;
            }
        }

        value = Nil;
        return false;
    }

    public override string ToString() => Kind switch
    {
        EdnKind.Nil => "nil",
        EdnKind.Boolean => Integer != 0 ? "true" : "false",
        EdnKind.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        EdnKind.String => "\"" + Text + "\"",
        EdnKind.Keyword => ":" + Text,
        EdnKind.Symbol => Text,
        EdnKind.Vector => "[" + string.Join(' ', Items) + "]",
        EdnKind.List => "(" + string.Join(' ', Items) + ")",
        EdnKind.Set => "#{" + string.Join(' ', Items) + "}",
        _ => "{" + string.Join(' ', Items) + "}",
    };
}

internal sealed class EdnSyntaxException(int line, string reason) : Exception(reason)
{
    public int Line { get; } = line;

    public string Reason { get; } = reason;
}

/// <summary>
/// A reader for the EDN subset that Jepsen histories use: maps, vectors, lists, sets, keywords,
/// symbols, strings, integers, booleans and nil; commas are whitespace and <c>;</c> starts a
/// comment. Floats, characters and tagged literals are rejected with a clear reason rather than
/// half-parsed. Tracks the line of every value so callers can report where input went wrong.
/// </summary>
internal sealed class EdnParser(string text, int firstLine = 1)
{
    private const int MaxNesting = 256;

    private int position;
    private int line = firstLine;

    public int Line => line;

    /// <summary>Reads the next top-level value; false at the end of the text.</summary>
    public bool TryReadNext(out EdnValue value, out int startLine)
    {
        SkipWhitespaceAndComments();
        startLine = line;
        if (position >= text.Length)
        {
            value = EdnValue.Nil;
            return false;
        }

        value = ReadValue(0);
        return true;
    }

    private EdnValue ReadValue(int depth)
    {
        if (depth > MaxNesting)
        {
            throw Error($"values are nested more than {MaxNesting} deep");
        }

        SkipWhitespaceAndComments();
        if (position >= text.Length)
        {
            throw Error("unexpected end of input");
        }

        var c = text[position];
        switch (c)
        {
            case '{':
                position++;
                var mapItems = ReadUntil('}', depth);
                return mapItems.Count % 2 == 0
                    ? EdnValue.Collection(EdnKind.Map, mapItems)
                    : throw Error("a map needs an even number of forms (a key without a value)");
            case '[':
                position++;
                return EdnValue.Collection(EdnKind.Vector, ReadUntil(']', depth));
            case '(':
                position++;
                return EdnValue.Collection(EdnKind.List, ReadUntil(')', depth));
            case '#' when position + 1 < text.Length && text[position + 1] == '{':
                position += 2;
                return EdnValue.Collection(EdnKind.Set, ReadUntil('}', depth));
            case '#':
                throw Error("tagged literals (#...) are not supported");
            case '"':
                return ReadString();
            case ':':
                position++;
                var name = ReadToken();
                return name.Length > 0 ? EdnValue.Keyword(name) : throw Error("a keyword needs a name after ':'");
            case '}' or ']' or ')':
                throw Error($"unexpected '{c}'");
            case '\\':
                throw Error("character literals are not supported");
            default:
                return ReadAtom();
        }
    }

    private List<EdnValue> ReadUntil(char close, int depth)
    {
        var openLine = line;
        var items = new List<EdnValue>();
        while (true)
        {
            SkipWhitespaceAndComments();
            if (position >= text.Length)
            {
                throw new EdnSyntaxException(openLine, $"missing '{close}' for the collection opened on line {openLine}");
            }

            if (text[position] == close)
            {
                position++;
                return items;
            }

            items.Add(ReadValue(depth + 1));
        }
    }

    private EdnValue ReadString()
    {
        var openLine = line;
        position++;
        var builder = new StringBuilder();
        while (true)
        {
            if (position >= text.Length)
            {
                throw new EdnSyntaxException(openLine, "unterminated string");
            }

            var c = text[position++];
            if (c == '"')
            {
                return EdnValue.String(builder.ToString());
            }

            if (c == '\n')
            {
                line++;
            }

            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }

            if (position >= text.Length)
            {
                throw new EdnSyntaxException(openLine, "unterminated string");
            }

            var escaped = text[position++];
            switch (escaped)
            {
                case '"': builder.Append('"'); break;
                case '\\': builder.Append('\\'); break;
                case 'n': builder.Append('\n'); break;
                case 't': builder.Append('\t'); break;
                case 'r': builder.Append('\r'); break;
                case 'u' when position + 4 <= text.Length &&
                              int.TryParse(text.AsSpan(position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                    builder.Append((char)code);
                    position += 4;
                    break;
                default:
                    throw Error($"unknown escape '\\{escaped}' in a string");
            }
        }
    }

    private EdnValue ReadAtom()
    {
        var token = ReadToken();
        if (token.Length == 0)
        {
            throw Error($"unexpected character '{text[position]}'");
        }

        switch (token)
        {
            case "nil": return EdnValue.Nil;
            case "true": return EdnValue.Boolean(true);
            case "false": return EdnValue.Boolean(false);
        }

        var first = token[0];
        var looksNumeric = char.IsAsciiDigit(first) || (token.Length > 1 && (first is '+' or '-') && char.IsAsciiDigit(token[1]));
        if (!looksNumeric)
        {
            return EdnValue.Symbol(token);
        }

        var digits = token.EndsWith('N') ? token[..^1] : token;
        if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return EdnValue.Of(integer);
        }

        return token.AsSpan().IndexOfAny(".eEM/") >= 0
            ? throw Error($"'{token}' is not an integer (floating-point and ratio numbers are not supported)")
            : throw Error($"'{token}' is not a 64-bit integer");
    }

    private string ReadToken()
    {
        var start = position;
        while (position < text.Length && IsTokenChar(text[position]))
        {
            position++;
        }

        return text[start..position];
    }

    private static bool IsTokenChar(char c) =>
        !char.IsWhiteSpace(c) && c is not (',' or '{' or '}' or '[' or ']' or '(' or ')' or '"' or ';' or '\\');

    private void SkipWhitespaceAndComments()
    {
        while (position < text.Length)
        {
            var c = text[position];
            if (c == '\n')
            {
                line++;
                position++;
            }
            else if (char.IsWhiteSpace(c) || c == ',')
            {
                position++;
            }
            else if (c == ';')
            {
                while (position < text.Length && text[position] != '\n')
                {
                    position++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private EdnSyntaxException Error(string reason) => new(line, reason);
}
