using System.Globalization;
using System.Runtime.CompilerServices;
using Concord.Core;

namespace Concord.Simulation;

internal enum EventKind : byte
{
    Start,
    Deliver,
    Timer,
    FaultBegin,
    FaultEnd,
}

/// <summary>
/// One pending event, a struct so that the queue is one array and scheduling allocates nothing.
/// <see cref="Value"/> is the message id (Deliver), timer id (Timer) or fault index (Fault*).
/// <see cref="Incarnation"/> ties an event to the node incarnation it belongs to: the one that set a
/// timer, or the one that deferred a message during a pause; −1 when any incarnation may receive it.
/// </summary>
internal struct SimEvent<TMessage>
{
    public long TimeUs;
    public long Sequence;
    public long Value;
    public TMessage Message;
    public int Node;
    public int Peer;
    public int Incarnation;
    public EventKind Kind;
}

/// <summary>
/// A binary min-heap over (time, sequence). The simulator stamps each event with a sequence number
/// that only grows, so events at the same microsecond come out in the order they were scheduled —
/// the tie-break that makes a run reproducible. Bounded: pushing beyond the capacity limit throws.
/// </summary>
internal sealed class EventQueue<TMessage>
{
    private readonly int _capacityMax;
    private SimEvent<TMessage>[] _heap;
    private int _count;

    public EventQueue(int capacityMax, int initialCapacity = 1024)
    {
        Invariant.Assert(capacityMax >= 1);
        _capacityMax = capacityMax;
        _heap = new SimEvent<TMessage>[Math.Min(initialCapacity, capacityMax)];
    }

    public int Count => _count;

    public long PeekTimeUs
    {
        get
        {
            Invariant.Assert(_count > 0);
            return _heap[0].TimeUs;
        }
    }

    public void Push(in SimEvent<TMessage> item)
    {
        if (_count == _heap.Length)
        {
            Grow();
        }

        // Sift up: move parents down into the hole until the new item fits.
        int hole = _count++;
        while (hole > 0)
        {
            int parent = (hole - 1) >> 1;
            if (!Before(in item, in _heap[parent]))
            {
                break;
            }

            _heap[hole] = _heap[parent];
            hole = parent;
        }

        _heap[hole] = item;
    }

    public void Pop(out SimEvent<TMessage> item)
    {
        Invariant.Assert(_count > 0);
        item = _heap[0];
        int last = --_count;
        if (last > 0)
        {
            SiftDown(in _heap[last], last);
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TMessage>())
        {
            // Release the payload so that delivered messages can be collected.
            _heap[last] = default;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(in SimEvent<TMessage> a, in SimEvent<TMessage> b) =>
        a.TimeUs < b.TimeUs || (a.TimeUs == b.TimeUs && a.Sequence < b.Sequence);

    private void SiftDown(in SimEvent<TMessage> item, int count)
    {
        int hole = 0;
        while (true)
        {
            int child = (hole << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Before(in _heap[child + 1], in _heap[child]))
            {
                child++;
            }

            if (!Before(in _heap[child], in item))
            {
                break;
            }

            _heap[hole] = _heap[child];
            hole = child;
        }

        _heap[hole] = item;
    }

    private void Grow()
    {
        if (_heap.Length >= _capacityMax)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"event queue full: {_count} pending events reached EventQueueCapacityMax; a node may be flooding the network or setting timers without bound."));
        }

        int capacity = (int)Math.Min((long)_heap.Length * 2, _capacityMax);
        Array.Resize(ref _heap, Math.Max(capacity, 16));
    }
}
