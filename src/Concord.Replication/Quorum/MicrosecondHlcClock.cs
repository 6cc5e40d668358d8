namespace Concord.Replication.Quorum;

/// <summary>
/// Feeds Concord.Core's <see cref="Core.Clocks.HybridLogicalClock"/> microseconds where it expects
/// milliseconds: it reports (wall µs since <see cref="Origin"/>) as Unix milliseconds.
/// </summary>
/// <remarks>
/// Why: LWW orders writes by timestamp. Two writes 0.9 ms apart in real time, on nodes with perfect
/// clocks, share one HLC millisecond, and the logical counters and writer ids of different nodes then
/// order them arbitrarily — LWW would lose writes even without skew, and R + W &gt; N would show
/// stale reads. Cassandra stamps in µs for the same reason. The 48-bit physical field holds about
/// 8.9 years of µs after the origin; the HLC's max offset is then in µs too.
/// </remarks>
public sealed class MicrosecondHlcClock : TimeProvider
{
    /// <summary>Two hours before 2025-01-01Z: the simulator's clocks start at that date and may be skewed back by up to an hour.</summary>
    public static readonly DateTimeOffset DefaultOrigin = new(2024, 12, 31, 22, 0, 0, TimeSpan.Zero);

    private readonly TimeProvider _wall;

    public MicrosecondHlcClock(TimeProvider wall, DateTimeOffset? origin = null)
    {
        ArgumentNullException.ThrowIfNull(wall);
        _wall = wall;
        Origin = origin ?? DefaultOrigin;
    }

    public DateTimeOffset Origin { get; }

    public override DateTimeOffset GetUtcNow()
    {
        long micros = (_wall.GetUtcNow() - Origin).Ticks / TimeSpan.TicksPerMicrosecond;
        return DateTimeOffset.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMillisecond);
    }

    public override long GetTimestamp() => _wall.GetTimestamp();

    public override long TimestampFrequency => _wall.TimestampFrequency;
}
