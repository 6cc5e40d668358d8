using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Concord.Core;
using Concord.Core.Clocks;

namespace Concord.Messaging.Envelopes;

/// <summary>What was wrong with a message that could not be encoded or decoded.</summary>
public enum MessageFormatError
{
    /// <summary>Not JSON, or JSON of the wrong shape (missing or unexpected fields).</summary>
    Malformed,

    /// <summary>The outer <c>format</c> number is not one this build reads.</summary>
    UnsupportedFormat,

    /// <summary>An envelope field breaks a rule of <see cref="Envelope.Problems"/>.</summary>
    InvalidEnvelope,

    /// <summary>No body type is registered under the envelope's type name.</summary>
    UnknownType,

    /// <summary>The type is known, but not at this schema version.</summary>
    UnknownSchemaVersion,

    /// <summary>The body does not match its registered schema.</summary>
    InvalidBody,

    /// <summary>Encoding: the body's CLR type is not the one registered for the envelope's type and version.</summary>
    TypeMismatch,

    /// <summary>The encoded message is larger than <see cref="EnvelopeLimits.EncodedBytesMax"/>.</summary>
    TooLarge,
}

/// <summary>A message that cannot be encoded or decoded; <see cref="Exception.Message"/> names the field.</summary>
public sealed class MessageFormatException : Exception
{
    public MessageFormatException()
    {
    }

    public MessageFormatException(string message)
        : base(message)
    {
    }

    public MessageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MessageFormatException(MessageFormatError error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    public MessageFormatError Error { get; }
}

/// <summary>
/// Encodes and decodes messages as one stable JSON document (format 1):
/// <c>{"format":1,"id":…,"type":…,"schemaVersion":…,"partitionKey":…,"correlationId":…,
/// "causationId":…,"timestamp":{"physicalMs":…,"logical":…},"headers":{…},"body":{…}}</c>.
/// Field order is fixed and headers are sorted, so the same message always encodes to the same
/// bytes (the outbox can checksum them). Bodies are serialized with source-generated metadata
/// registered per (type, schema version); an unregistered pair is refused by name, never guessed.
/// </summary>
public sealed class MessageCodec
{
    /// <summary>The version of the outer document; bump it only when the envelope's own shape changes.</summary>
    public const int Format = 1;

    readonly Dictionary<(string Type, int Version), JsonTypeInfo> _byName = [];
    readonly Dictionary<Type, (string Type, int Version)> _byClrType = [];

    /// <summary>Registers <typeparamref name="T"/> as the body of <paramref name="type"/> at <paramref name="schemaVersion"/>.</summary>
    public MessageCodec Register<T>(string type, int schemaVersion, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        var problems = new List<string>();
        Envelope.CheckTypeName(problems, "type", type);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(type));
        }

        if (schemaVersion is < 1 or > EnvelopeLimits.SchemaVersionMax)
        {
            throw new ArgumentOutOfRangeException(nameof(schemaVersion), schemaVersion, "schemaVersion must be within [1, " + EnvelopeLimits.SchemaVersionMax.ToString(CultureInfo.InvariantCulture) + "].");
        }

        if (!_byName.TryAdd((type, schemaVersion), typeInfo))
        {
            throw new ArgumentException($"'{type}' version {schemaVersion} is already registered.", nameof(type));
        }

        // One CLR type per (type, version): decoding must know which class to build, and encoding
        // must know which name to write. An old version needs its own class (an upcaster's input).
        if (!_byClrType.TryAdd(typeof(T), (type, schemaVersion)))
        {
            _byName.Remove((type, schemaVersion));
            throw new ArgumentException($"{typeof(T).Name} is already registered as '{_byClrType[typeof(T)].Type}' version {_byClrType[typeof(T)].Version}.", nameof(typeInfo));
        }

        return this;
    }

    /// <summary>The (type, version) registered for a body's CLR type, for building its envelope.</summary>
    public (string Type, int SchemaVersion) NameOf(Type bodyType) =>
        _byClrType.TryGetValue(bodyType, out var name)
            ? name
            : throw new MessageFormatException(MessageFormatError.UnknownType, $"{bodyType.Name} is not a registered message body.");

    public byte[] Encode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Envelope envelope = message.Envelope;
        envelope.Validate();
        JsonTypeInfo info = Lookup(envelope.Type, envelope.SchemaVersion);
        if (info.Type != message.Body.GetType())
        {
            throw new MessageFormatException(MessageFormatError.TypeMismatch,
                $"'{envelope.Type}' version {envelope.SchemaVersion} carries {info.Type.Name}, not {message.Body.GetType().Name}.");
        }

        var wire = new EnvelopeWire
        {
            Format = Format,
            Id = envelope.Id,
            Type = envelope.Type,
            SchemaVersion = envelope.SchemaVersion,
            PartitionKey = envelope.PartitionKey,
            CorrelationId = envelope.CorrelationId,
            CausationId = envelope.CausationId,
            Timestamp = new WireTimestamp { PhysicalMs = envelope.Timestamp.PhysicalMs, Logical = envelope.Timestamp.Logical },
            // Dictionary enumerates in insertion order when nothing was removed: the sorted order.
            Headers = envelope.Headers.ToDictionary(StringComparer.Ordinal),
            Body = JsonSerializer.SerializeToElement(message.Body, info),
        };
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(wire, EnvelopeJsonContext.Default.EnvelopeWire);
        if (bytes.Length > EnvelopeLimits.EncodedBytesMax)
        {
            throw new MessageFormatException(MessageFormatError.TooLarge,
                $"The encoded message is {bytes.Length} bytes, more than {EnvelopeLimits.EncodedBytesMax}.");
        }

        return bytes;
    }

    public Message Decode(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > EnvelopeLimits.EncodedBytesMax)
        {
            throw new MessageFormatException(MessageFormatError.TooLarge,
                $"The message is {utf8.Length} bytes, more than {EnvelopeLimits.EncodedBytesMax}.");
        }

        EnvelopeWire? wire;
        try
        {
            wire = JsonSerializer.Deserialize(utf8, EnvelopeJsonContext.Default.EnvelopeWire);
        }
        catch (JsonException e)
        {
            throw new MessageFormatException(MessageFormatError.Malformed, $"Not a message envelope: {e.Message}", e);
        }

        if (wire is null)
        {
            throw new MessageFormatException(MessageFormatError.Malformed, "Not a message envelope: the document is null.");
        }

        if (wire.Format != Format)
        {
            throw new MessageFormatException(MessageFormatError.UnsupportedFormat, wire.Format is null
                ? "format: required (this build reads format " + Format.ToString(CultureInfo.InvariantCulture) + ")."
                : $"format: {wire.Format} is not supported (this build reads format {Format}).");
        }

        Envelope envelope = ToEnvelope(wire);
        JsonTypeInfo info = Lookup(envelope.Type, envelope.SchemaVersion);
        if (wire.Body is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MessageFormatException(MessageFormatError.Malformed, "body: required, and must be a JSON object.");
        }

        object? decoded;
        try
        {
            decoded = body.Deserialize(info);
        }
        catch (JsonException e)
        {
            throw new MessageFormatException(MessageFormatError.InvalidBody,
                $"body of '{envelope.Type}' version {envelope.SchemaVersion}: {e.Message}", e);
        }

        Invariant.Assert(decoded is not null); // a JSON object never deserializes to null
        return new Message(envelope, decoded);
    }

    JsonTypeInfo Lookup(string type, int schemaVersion)
    {
        if (_byName.TryGetValue((type, schemaVersion), out JsonTypeInfo? info))
        {
            return info;
        }

        int[] versions = [.. _byName.Keys.Where(k => k.Type == type).Select(k => k.Version).Order()];
        if (versions.Length == 0)
        {
            string known = string.Join(", ", _byName.Keys.Select(k => k.Type).Distinct().Order(StringComparer.Ordinal));
            throw new MessageFormatException(MessageFormatError.UnknownType,
                $"type: '{type}' is not a registered message type (known: {(known.Length == 0 ? "none" : known)}).");
        }

        throw new MessageFormatException(MessageFormatError.UnknownSchemaVersion,
            $"schemaVersion: '{type}' has no version {schemaVersion} (known: {string.Join(", ", versions)}).");
    }

    static Envelope ToEnvelope(EnvelopeWire wire)
    {
        var missing = new List<string>();
        if (wire.SchemaVersion is null)
        {
            missing.Add("schemaVersion");
        }

        if (wire.Timestamp?.PhysicalMs is null || wire.Timestamp.Logical is null)
        {
            missing.Add("timestamp.physicalMs and timestamp.logical");
        }

        if (missing.Count > 0)
        {
            throw new MessageFormatException(MessageFormatError.Malformed, "Missing field(s): " + string.Join(", ", missing) + ".");
        }

        long physicalMs = wire.Timestamp!.PhysicalMs!.Value;
        int logical = wire.Timestamp.Logical!.Value;
        if (physicalMs is < 0 or > HlcTimestamp.PhysicalMsMax || logical is < 0 or > HlcTimestamp.LogicalMax)
        {
            throw new MessageFormatException(MessageFormatError.InvalidEnvelope,
                $"timestamp: ({physicalMs}, {logical}) is outside [0, {HlcTimestamp.PhysicalMsMax}] x [0, {HlcTimestamp.LogicalMax}].");
        }

        var envelope = new Envelope
        {
            Id = wire.Id!,
            Type = wire.Type!,
            SchemaVersion = wire.SchemaVersion!.Value,
            PartitionKey = wire.PartitionKey!,
            CorrelationId = wire.CorrelationId!,
            CausationId = wire.CausationId,
            Timestamp = new HlcTimestamp(physicalMs, (ushort)logical),
            Headers = wire.Headers is null
                ? ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal)
                : wire.Headers.ToImmutableSortedDictionary(StringComparer.Ordinal),
        };
        // Checked on read as well as on write: another producer may not share these rules.
        envelope.Validate();
        return envelope;
    }
}

internal sealed class EnvelopeWire
{
    public int? Format { get; set; }

    public string? Id { get; set; }

    public string? Type { get; set; }

    public int? SchemaVersion { get; set; }

    public string? PartitionKey { get; set; }

    public string? CorrelationId { get; set; }

    public string? CausationId { get; set; }

    public WireTimestamp? Timestamp { get; set; }

    public Dictionary<string, string>? Headers { get; set; }

    public JsonElement? Body { get; set; }
}

internal sealed class WireTimestamp
{
    public long? PhysicalMs { get; set; }

    public int? Logical { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EnvelopeWire))]
internal sealed partial class EnvelopeJsonContext : JsonSerializerContext;
