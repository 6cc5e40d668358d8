using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Concord.Simulation.Tracing;

internal enum TraceKind : byte
{
    Start = 1,
    Deliver,
    DropLoss,
    DropPartition,
    DropNodeDown,
    Duplicate,
    Timer,
    Crash,
    Restart,
    FaultBegin,
    FaultEnd,
    DurableWrite,
    DurableDelete,
}

/// <summary>
/// The run's trace: a streaming XxHash3 over a fixed-size binary record per event (so the hash needs
/// no text and no allocation), plus optional text lines. Two runs are identical exactly when every
/// record matches in order, which is what <see cref="Hash"/> summarizes.
/// </summary>
internal sealed class Trace<TMessage>
{
    private const int RecordBytes = 1 + 8 + 4 + 4 + 8 + 8;

    private readonly XxHash3 _hash = new();
    private readonly TextWriter? _writer;
    private readonly Func<TMessage, ulong>? _fingerprint;
    private readonly Func<TMessage, string>? _format;

    public Trace(TraceOptions<TMessage>? options)
    {
        _writer = options?.Writer;
        _fingerprint = options?.Fingerprint;
        _format = options?.Format;
    }

    public ulong Hash => _hash.GetCurrentHashAsUInt64();

    public void Message(TraceKind kind, long timeUs, int to, int from, long messageId, in TMessage message)
    {
        ulong digest = _fingerprint is null ? 0 : _fingerprint(message);
        Append(kind, timeUs, to, from, messageId, digest);
        if (_writer is not null)
        {
            string text = kind == TraceKind.Deliver
                ? (_format is null ? message?.ToString() : _format(message)) ?? "null"
                : string.Empty;
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{timeUs,12}us {Name(kind),-14} n{from} -> n{to} #{messageId} {text}").TrimEnd());
        }
    }

    public void Timer(long timeUs, int node, long timerId, long tag)
    {
        Append(TraceKind.Timer, timeUs, node, 0, timerId, unchecked((ulong)tag));
        _writer?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{timeUs,12}us {Name(TraceKind.Timer),-14} n{node} t{timerId} tag={tag}"));
    }

    public void Node(TraceKind kind, long timeUs, int node, int incarnation)
    {
        Append(kind, timeUs, node, incarnation, 0, 0);
        _writer?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{timeUs,12}us {Name(kind),-14} n{node} incarnation={incarnation}"));
    }

    public void Durable(TraceKind kind, long timeUs, int node, string key)
    {
        Append(kind, timeUs, node, 0, key.Length, XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan())));
        _writer?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{timeUs,12}us {Name(kind),-14} n{node} {key}"));
    }

    public void Fault(TraceKind kind, long timeUs, int index, string description)
    {
        Append(kind, timeUs, 0, 0, index, TraceFingerprint.Of(description));
        _writer?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{timeUs,12}us {Name(kind),-14} #{index} {description}"));
    }

    private void Append(TraceKind kind, long timeUs, int node, int peer, long value, ulong digest)
    {
        // Little-endian fixed layout: the encoding is part of the replay contract, like the seed.
        Span<byte> record = stackalloc byte[RecordBytes];
        record[0] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(record[1..], timeUs);
        BinaryPrimitives.WriteInt32LittleEndian(record[9..], node);
        BinaryPrimitives.WriteInt32LittleEndian(record[13..], peer);
        BinaryPrimitives.WriteInt64LittleEndian(record[17..], value);
        BinaryPrimitives.WriteUInt64LittleEndian(record[25..], digest);
        _hash.Append(record);
    }

    private static string Name(TraceKind kind) => kind switch
    {
        TraceKind.Start => "start",
        TraceKind.Deliver => "deliver",
        TraceKind.DropLoss => "drop-loss",
        TraceKind.DropPartition => "drop-partition",
        TraceKind.DropNodeDown => "drop-down",
        TraceKind.Duplicate => "duplicate",
        TraceKind.Timer => "timer",
        TraceKind.Crash => "crash",
        TraceKind.Restart => "restart",
        TraceKind.FaultBegin => "fault-begin",
        TraceKind.FaultEnd => "fault-end",
        TraceKind.DurableWrite => "durable-write",
        TraceKind.DurableDelete => "durable-delete",
        _ => "unknown",
    };
}
