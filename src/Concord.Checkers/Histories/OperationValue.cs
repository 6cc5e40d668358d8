using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Concord.Checkers.Histories;

public enum OperationValueKind
{
    Nil,
    Integer,
    Text,
    List,
}

/// <summary>
/// The value of an operation: nil, a 64-bit integer, a string or a list of values. It is the
/// common subset of Jepsen's EDN values and JSON that register and key-value histories use.
/// Immutable, with structural equality and a hash computed once (models compare and hash values
/// in the checker's hot loop).
/// </summary>
public sealed class OperationValue : IEquatable<OperationValue>
{
    public static readonly OperationValue Nil = new(OperationValueKind.Nil, 0, null, []);

    private readonly long integer;
    private readonly string? text;
    private readonly int hash;

    private OperationValue(OperationValueKind kind, long integer, string? text, ImmutableArray<OperationValue> items)
    {
        Kind = kind;
        this.integer = integer;
        this.text = text;
        Items = items;
        hash = kind switch
        {
            OperationValueKind.Nil => 0x6E696C,
            OperationValueKind.Integer => integer.GetHashCode(),
            OperationValueKind.Text => StringComparer.Ordinal.GetHashCode(text!),
            _ => HashItems(items),
        };
    }

    public OperationValueKind Kind { get; }

    /// <summary>The elements when <see cref="Kind"/> is <see cref="OperationValueKind.List"/>, else empty.</summary>
    public ImmutableArray<OperationValue> Items { get; }

    public bool IsNil => Kind == OperationValueKind.Nil;

    public long Integer => Kind == OperationValueKind.Integer
        ? integer
        : throw new InvalidOperationException($"Value {this} is not an integer.");

    public string Text => Kind == OperationValueKind.Text
        ? text!
        : throw new InvalidOperationException($"Value {this} is not a string.");

    public static OperationValue Of(long value) => new(OperationValueKind.Integer, value, null, []);

    public static OperationValue Of(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(OperationValueKind.Text, 0, value, []);
    }

    public static OperationValue ListOf(params IEnumerable<OperationValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var array = items.ToImmutableArray();
        foreach (var item in array)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(items));
        }

        return new(OperationValueKind.List, 0, null, array);
    }

    public bool TryGetInteger(out long value)
    {
        value = integer;
        return Kind == OperationValueKind.Integer;
    }

    public bool Equals(OperationValue? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.hash != hash || other.Kind != Kind)
        {
            return false;
        }

        return Kind switch
        {
            OperationValueKind.Nil => true,
            OperationValueKind.Integer => integer == other.integer,
            OperationValueKind.Text => string.Equals(text, other.text, StringComparison.Ordinal),
            _ => Items.AsSpan().SequenceEqual(other.Items.AsSpan()),
        };
    }

    public override bool Equals(object? obj) => Equals(obj as OperationValue);

    public override int GetHashCode() => hash;

    /// <summary>EDN notation: <c>nil</c>, <c>3</c>, <c>"x"</c>, <c>[1 2]</c>.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        AppendEdn(builder);
        return builder.ToString();
    }

    private void AppendEdn(StringBuilder builder)
    {
        switch (Kind)
        {
            case OperationValueKind.Nil:
                builder.Append("nil");
                break;
            case OperationValueKind.Integer:
                builder.Append(integer.ToString(CultureInfo.InvariantCulture));
                break;
            case OperationValueKind.Text:
                builder.Append('"');
                foreach (var c in text!)
                {
                    builder.Append(c switch
                    {
                        '"' => "\\\"",
                        '\\' => "\\\\",
                        '\n' => "\\n",
                        '\t' => "\\t",
                        '\r' => "\\r",
                        _ => c.ToString(),
                    });
                }

                builder.Append('"');
                break;
            default:
                builder.Append('[');
                for (var i = 0; i < Items.Length; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(' ');
                    }

                    Items[i].AppendEdn(builder);
                }

                builder.Append(']');
                break;
        }
    }

    private static int HashItems(ImmutableArray<OperationValue> items)
    {
        var combined = new HashCode();
        combined.Add(items.Length);
        foreach (var item in items)
        {
            combined.Add(item.hash);
        }

        return combined.ToHashCode();
    }
}
