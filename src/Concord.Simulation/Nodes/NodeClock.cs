namespace Concord.Simulation.Nodes;

/// <summary>The simulator's current time, shared read-only with every node clock.</summary>
internal sealed class SimulatedTime
{
    public long NowUs;
}

/// <summary>
/// One node's hardware clock as a <see cref="TimeProvider"/>, so code written for real hosts — such
/// as Concord.Core's HybridLogicalClock — runs unchanged on simulated time.
/// The monotonic clock (<see cref="GetTimestamp"/>, µs) runs at (1 + drift) × simulated time and
/// never jumps; the wall clock (<see cref="GetUtcNow"/>) is monotonic + offset and jumps when the
/// offset changes. The clock survives crashes: it is hardware, not process state.
/// </summary>
internal sealed class NodeClock : TimeProvider
{
    /// <summary>Wall time at simulated time 0 with no offset; a fixed date so that traces are stable.</summary>
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const long PpmPerUnit = 1_000_000;

    private readonly SimulatedTime _time;
    private long _anchorSimUs;
    private long _anchorMonotonicUs;

    public NodeClock(SimulatedTime time)
    {
        _time = time;
    }

    public long DriftPpm { get; private set; }

    public long OffsetUs { get; private set; }

    public long MonotonicUs => MonotonicAt(_time.NowUs);

    /// <summary>The node's wall-clock reading in µs since <see cref="Epoch"/> (negative before it).</summary>
    public long WallUs => MonotonicUs + OffsetUs;

    public override long TimestampFrequency => PpmPerUnit;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public long MonotonicAt(long simUs)
    {
        long elapsed = simUs - _anchorSimUs;
        return _anchorMonotonicUs + elapsed + (long)((Int128)elapsed * DriftPpm / PpmPerUnit);
    }

    /// <summary>Re-anchors so that the monotonic clock stays continuous across a drift change.</summary>
    public void Set(long offsetUs, long driftPpm)
    {
        long now = _time.NowUs;
        _anchorMonotonicUs = MonotonicAt(now);
        _anchorSimUs = now;
        DriftPpm = driftPpm;
        OffsetUs = offsetUs;
    }

    /// <summary>Simulated µs until this clock has advanced <paramref name="localDelayUs"/>, rounded up so a timer never fires early by its own clock.</summary>
    public long ToSimDelayUs(long localDelayUs)
    {
        Int128 rate = PpmPerUnit + DriftPpm;
        return (long)((((Int128)localDelayUs * PpmPerUnit) + rate - 1) / rate);
    }

    public override long GetTimestamp() => MonotonicUs;

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(WallUs * TimeSpan.TicksPerMicrosecond);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException("Simulated nodes have no callback timers: set one with NodeContext.SetTimer and handle it in OnTimer.");
}
