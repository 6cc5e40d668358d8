using System.Globalization;

namespace Concord.Core.Clocks;

/// <summary>
/// Hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva and Leone, "Logical Physical Clocks and
/// Consistent Snapshots in Globally Distributed Databases", 2014). Timestamps stay close to
/// physical time yet respect happened-before: every event gets a timestamp greater than every
/// earlier local event and every message it has observed, even when the physical clock jumps back.
/// </summary>
/// <remarks>
/// <para>Remote timestamps more than <see cref="MaxOffsetMs"/> ahead of local physical time are
/// rejected, never absorbed (as CockroachDB does): absorbing one would drag every later timestamp of
/// this node, and of everyone it talks to, into the future.</para>
/// <para>Logical counter overflow: after 65,535 the clock borrows from the physical part, issuing
/// (physical + 1 ms, 0). Borrowing is bounded: the physical part may not run more than
/// <see cref="MaxOffsetMs"/> ahead of local physical time, otherwise peers would reject this node's
/// timestamps; past that bound the clock throws <see cref="HlcCounterExhaustedException"/> rather
/// than issue a timestamp that is not monotonic or not acceptable.</para>
/// <para>Thread-safe. Monotonic within one instance; across restarts persist an upper bound of
/// issued timestamps if a restarted node must not reissue smaller ones.</para>
/// </remarks>
public sealed class HybridLogicalClock
{
    /// <summary>Bounds <see cref="MaxOffsetMs"/>: a larger value almost always means a unit mistake.</summary>
    public const long MaxOffsetMsLimit = 60_000;

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private HlcTimestamp _last;

    public HybridLogicalClock(TimeProvider time, long maxOffsetMs)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (maxOffsetMs is < 1 or > MaxOffsetMsLimit)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxOffsetMs),
                maxOffsetMs,
                string.Create(CultureInfo.InvariantCulture, $"maxOffsetMs must be within [1, {MaxOffsetMsLimit}] milliseconds (CockroachDB defaults to 500); a larger value usually means seconds or microseconds were passed."));
        }

        _time = time;
        MaxOffsetMs = maxOffsetMs;
    }

    /// <summary>The largest accepted distance of a remote physical time ahead of local physical time.</summary>
    public long MaxOffsetMs { get; }

    /// <summary>The last timestamp issued, or <see cref="HlcTimestamp.Zero"/> before the first event.</summary>
    public HlcTimestamp Last
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    /// <summary>Timestamps a local or send event.</summary>
    public HlcTimestamp Now()
    {
        lock (_lock)
        {
            long physicalMs = ReadPhysicalMs();
            HlcTimestamp next = physicalMs > _last.PhysicalMs
                ? new HlcTimestamp(physicalMs, 0)
                : Successor(_last.PhysicalMs, _last.Logical, physicalMs);
            return Issue(next);
        }
    }

    /// <summary>Timestamps a receive event; the result is greater than <paramref name="remote"/>.</summary>
    /// <exception cref="HlcOffsetExceededException">The remote physical time is too far ahead.</exception>
    public HlcTimestamp Observe(HlcTimestamp remote)
    {
        if (!TryObserve(remote, out HlcTimestamp timestamp, out HlcRejection rejection))
        {
            throw new HlcOffsetExceededException(rejection);
        }

        return timestamp;
    }

    /// <summary>
    /// Like <see cref="Observe"/>, but reports a too-far-future remote through
    /// <paramref name="rejection"/> and returns false, leaving the clock unchanged.
    /// </summary>
    public bool TryObserve(HlcTimestamp remote, out HlcTimestamp timestamp, out HlcRejection rejection)
    {
        lock (_lock)
        {
            long physicalMs = ReadPhysicalMs();
            if (remote.PhysicalMs - physicalMs > MaxOffsetMs)
            {
                timestamp = default;
                rejection = new HlcRejection(remote, physicalMs, MaxOffsetMs);
                return false;
            }

            HlcTimestamp last = _last;
            long l = Math.Max(Math.Max(last.PhysicalMs, remote.PhysicalMs), physicalMs);
            HlcTimestamp next;
            if (l == last.PhysicalMs && l == remote.PhysicalMs)
            {
                next = Successor(l, Math.Max(last.Logical, remote.Logical), physicalMs);
            }
            else if (l == last.PhysicalMs)
            {
                next = Successor(l, last.Logical, physicalMs);
            }
            else if (l == remote.PhysicalMs)
            {
                next = Successor(l, remote.Logical, physicalMs);
            }
            else
            {
                next = new HlcTimestamp(l, 0);
            }

            Invariant.Assert(next > remote);
            timestamp = Issue(next);
            rejection = default;
            return true;
        }
    }

    private HlcTimestamp Issue(HlcTimestamp next)
    {
        Invariant.Assert(next > _last);
        _last = next;
        return next;
    }

    /// <summary>The timestamp right after (physicalMs, logical), borrowing a millisecond on overflow.</summary>
    private HlcTimestamp Successor(long physicalMs, ushort logical, long localPhysicalMs)
    {
        if (logical < HlcTimestamp.LogicalMax)
        {
            return new HlcTimestamp(physicalMs, (ushort)(logical + 1));
        }

        if (physicalMs + 1 - localPhysicalMs > MaxOffsetMs || physicalMs + 1 > HlcTimestamp.PhysicalMsMax)
        {
            throw new HlcCounterExhaustedException(new HlcTimestamp(physicalMs, logical), localPhysicalMs, MaxOffsetMs);
        }

        return new HlcTimestamp(physicalMs + 1, 0);
    }

    private long ReadPhysicalMs()
    {
        long ms = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (ms is < 0 or > HlcTimestamp.PhysicalMsMax)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"The TimeProvider returned {ms} Unix ms, outside the 48-bit range [0, {HlcTimestamp.PhysicalMsMax}] an HLC timestamp can hold."));
        }

        return ms;
    }
}
