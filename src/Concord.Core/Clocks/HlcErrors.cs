using System.Globalization;

namespace Concord.Core.Clocks;

/// <summary>
/// Why <see cref="HybridLogicalClock.TryObserve"/> refused a remote timestamp: its physical part
/// was more than <see cref="MaxOffsetMs"/> ahead of this node's physical time.
/// </summary>
public readonly record struct HlcRejection(HlcTimestamp Remote, long LocalPhysicalMs, long MaxOffsetMs)
{
    /// <summary>How far the remote physical time is ahead of the local one; more than <see cref="MaxOffsetMs"/>.</summary>
    public long AheadMs => Remote.PhysicalMs - LocalPhysicalMs;

    public override string ToString()
    {
        string local = HlcTimestamp.FormatPhysical(LocalPhysicalMs);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"Rejected remote HLC timestamp {Remote} (physical {Remote.PhysicalMs} ms): it is {AheadMs} ms ahead of local physical time {local} ({LocalPhysicalMs} ms), beyond MaxOffsetMs={MaxOffsetMs}. It was not absorbed: the sender's clock or this node's clock is off by more than the configured bound.");
    }
}

/// <summary>Thrown by <see cref="HybridLogicalClock.Observe"/> for a remote timestamp too far in the future.</summary>
public sealed class HlcOffsetExceededException : Exception
{
    public HlcOffsetExceededException(HlcRejection rejection)
        : base(rejection.ToString()) => Rejection = rejection;

    public HlcRejection Rejection { get; }
}

/// <summary>
/// Thrown when the 16-bit logical counter is full and advancing the physical part by one more
/// millisecond would put this clock more than MaxOffsetMs ahead of its own physical time (peers
/// would then reject its timestamps). Needs over 65,536 events within one millisecond while the
/// clock already leads physical time by MaxOffsetMs; the caller should retry after a millisecond.
/// </summary>
public sealed class HlcCounterExhaustedException : Exception
{
    public HlcCounterExhaustedException(HlcTimestamp last, long localPhysicalMs, long maxOffsetMs)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"HLC logical counter exhausted at {last}: advancing to physical {last.PhysicalMs + 1} ms would lead local physical time {localPhysicalMs} ms by more than MaxOffsetMs={maxOffsetMs}. Retry after the physical clock advances."))
    {
        Last = last;
        LocalPhysicalMs = localPhysicalMs;
        MaxOffsetMs = maxOffsetMs;
    }

    public HlcTimestamp Last { get; }

    public long LocalPhysicalMs { get; }

    public long MaxOffsetMs { get; }
}
