using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Concord.Core.Clocks;

namespace Concord.Messaging.Envelopes;

/// <summary>
/// The metadata every message travels with. The body is kept apart (<see cref="Message"/>) so
/// relays, inboxes and routers can read and validate an envelope without knowing the body's type.
/// </summary>
/// <remarks>
/// <see cref="Id"/> is supplied by the caller, never generated here: the inbox deduplicates on it,
/// so a redelivered message must carry the same id, and a simulation must replay the same ids.
/// </remarks>
public sealed record Envelope
{
    /// <summary>Unique per logical message; the inbox's deduplication key.</summary>
    public required string Id { get; init; }

    /// <summary>The body's registered type name, e.g. <c>order-saga.reserve-stock</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The version of the body's schema under <see cref="Type"/>; starts at 1.</summary>
    public required int SchemaVersion { get; init; }

    /// <summary>Messages with the same key are delivered in order (one outbox partition).</summary>
    public required string PartitionKey { get; init; }

    /// <summary>The business flow this message belongs to (for a saga: the saga id).</summary>
    public required string CorrelationId { get; init; }

    /// <summary>The id of the message that caused this one; null for a flow's first message.</summary>
    public string? CausationId { get; init; }

    public required HlcTimestamp Timestamp { get; init; }

    /// <summary>Sorted by name so encoding is byte-for-byte stable.</summary>
    public ImmutableSortedDictionary<string, string> Headers { get; init; } = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    /// <summary>Every rule this envelope breaks, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        CheckToken(problems, "id", Id, EnvelopeLimits.IdLengthMax);
        CheckTypeName(problems, "type", Type);
        if (SchemaVersion is < 1 or > EnvelopeLimits.SchemaVersionMax)
        {
            problems.Add(Invariant($"schemaVersion: {SchemaVersion} is outside [1, {EnvelopeLimits.SchemaVersionMax}]."));
        }

        CheckToken(problems, "partitionKey", PartitionKey, EnvelopeLimits.PartitionKeyLengthMax);
        CheckToken(problems, "correlationId", CorrelationId, EnvelopeLimits.IdLengthMax);
        if (CausationId is not null)
        {
            CheckToken(problems, "causationId", CausationId, EnvelopeLimits.IdLengthMax);
        }

        CheckHeaders(problems, Headers);
        return problems;
    }

    /// <summary>Throws <see cref="MessageFormatException"/> listing every problem, if any.</summary>
    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new MessageFormatException(MessageFormatError.InvalidEnvelope, "Invalid envelope: " + string.Join(" ", problems));
        }
    }

    public bool Equals(Envelope? other) =>
        other is not null &&
        Id == other.Id && Type == other.Type && SchemaVersion == other.SchemaVersion &&
        PartitionKey == other.PartitionKey && CorrelationId == other.CorrelationId &&
        CausationId == other.CausationId && Timestamp == other.Timestamp &&
        Headers.Count == other.Headers.Count &&
        Headers.All(h => other.Headers.TryGetValue(h.Key, out string? v) && v == h.Value);

    public override int GetHashCode() => HashCode.Combine(Id, Type, SchemaVersion, PartitionKey, CorrelationId, CausationId, Timestamp, Headers.Count);

    internal static void CheckTypeName(List<string> problems, string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            problems.Add(field + ": required.");
            return;
        }

        if (value.Length > EnvelopeLimits.TypeLengthMax)
        {
            problems.Add(Invariant($"{field}: {value.Length} characters, more than {EnvelopeLimits.TypeLengthMax}."));
            return;
        }

        // Lower-case segments joined by '.' or '-': stable across languages and safe in routing keys.
        bool boundary = true;
        foreach (char c in value)
        {
            bool word = c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
            if (!word && (boundary || c is not ('.' or '-')))
            {
                problems.Add($"{field}: '{value}' must be lower-case words joined by '.' or '-', e.g. 'order-saga.reserve-stock'.");
                return;
            }

            boundary = !word;
        }

        if (boundary)
        {
            problems.Add($"{field}: '{value}' must not end with '.' or '-'.");
        }
    }

    static void CheckToken(List<string> problems, string field, string? value, int lengthMax)
    {
        if (string.IsNullOrEmpty(value))
        {
            problems.Add(field + ": required.");
        }
        else if (value.Length > lengthMax)
        {
            problems.Add(Invariant($"{field}: {value.Length} characters, more than {lengthMax}."));
        }
        else if (value.Any(char.IsControl))
        {
            problems.Add(field + ": contains a control character.");
        }
    }

    static void CheckHeaders(List<string> problems, IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null)
        {
            problems.Add("headers: must not be null.");
            return;
        }

        if (headers.Count > EnvelopeLimits.HeaderCountMax)
        {
            problems.Add(Invariant($"headers: {headers.Count} headers, more than {EnvelopeLimits.HeaderCountMax}."));
            return;
        }

        long bytes = 0;
        foreach ((string name, string value) in headers)
        {
            if (name.Length is 0 or > EnvelopeLimits.HeaderNameLengthMax || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                problems.Add(Invariant($"headers: name '{name}' must be 1 to {EnvelopeLimits.HeaderNameLengthMax} characters of a-z, 0-9, '-', '_' or '.'."));
            }

            if (value is null || value.Length > EnvelopeLimits.HeaderValueLengthMax || value.Any(char.IsControl))
            {
                problems.Add(Invariant($"headers.{name}: value must be at most {EnvelopeLimits.HeaderValueLengthMax} characters without control characters."));
            }

            bytes += Encoding.UTF8.GetByteCount(name) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));
        }

        if (bytes > EnvelopeLimits.HeadersBytesMax)
        {
            problems.Add(Invariant($"headers: {bytes} bytes in total, more than {EnvelopeLimits.HeadersBytesMax}."));
        }
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Bounds on an envelope, checked when encoding and again when decoding.</summary>
public static class EnvelopeLimits
{
    public const int IdLengthMax = 128;
    public const int TypeLengthMax = 128;
    public const int PartitionKeyLengthMax = 256;
    public const int SchemaVersionMax = 1000;
    public const int HeaderCountMax = 32;
    public const int HeaderNameLengthMax = 64;
    public const int HeaderValueLengthMax = 1024;
    public const int HeadersBytesMax = 8 * 1024;
    public const int EncodedBytesMax = 1024 * 1024;
}

/// <summary>An envelope and its decoded body.</summary>
public sealed record Message(Envelope Envelope, object Body);
