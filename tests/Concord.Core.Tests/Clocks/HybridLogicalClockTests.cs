using Concord.Core.Clocks;
using Concord.Core.Tests.Support;
using CsCheck;
using Microsoft.Extensions.Time.Testing;

namespace Concord.Core.Tests.Clocks;

public class HybridLogicalClockTests
{
    private const long MaxOffsetMs = 500;
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private enum Action
    {
        Now,
        Observe,
        Advance,
        Jump,
    }

    /// <summary>One step: the action and its argument (milliseconds, or a remote offset) and a remote logical counter.</summary>
    private static readonly Gen<(Action Action, long Ms, ushort Logical)> Steps =
        Gen.Select(
            Gen.Enum<Action>(),
            Gen.OneOf(Gen.Long[-3_000, 3_000], Gen.Long[MaxOffsetMs - 2, MaxOffsetMs + 2], Gen.Long[-2, 2]),
            Gen.OneOf(Gen.UShort, Gen.OneOfConst((ushort)0, (ushort)(ushort.MaxValue - 1), ushort.MaxValue)));

    /// <summary>What the properties need from a clock, so a deliberately broken one can be plugged in.</summary>
    private interface ITimestampSource
    {
        HlcTimestamp Now();

        bool TryObserve(HlcTimestamp remote, out HlcTimestamp timestamp);
    }

    [Fact]
    public void Monotonic_under_local_events_observes_and_clock_jumps() =>
        AssertMonotonic(time => new Hlc(new HybridLogicalClock(time, MaxOffsetMs)));

    [Fact]
    public void Negative_control_a_physical_clock_is_not_monotonic_when_time_jumps_back() =>
        Assert.Throws<CsCheckException>(() => AssertMonotonic(time => new PhysicalOnly(time)));

    [Fact]
    public void Too_far_future_remote_is_rejected_reported_and_not_absorbed() =>
        Gen.Select(Steps.Array[0, 30], Gen.Long[1, 100_000], Gen.UShort).Sample(
            (history, beyondMs, logical) =>
            {
                var (clock, time) = AfterHistory(history);
                var (twin, _) = AfterHistory(history); // the same clock that never sees the remote
                HlcTimestamp before = clock.Last;
                long localMs = time.GetUtcNow().ToUnixTimeMilliseconds();
                var remote = new HlcTimestamp(localMs + MaxOffsetMs + beyondMs, logical);

                Assert.False(clock.TryObserve(remote, out _, out HlcRejection rejection));
                Assert.Equal(new HlcRejection(remote, localMs, MaxOffsetMs), rejection);
                Assert.Equal(MaxOffsetMs + beyondMs, rejection.AheadMs);
                var error = Assert.Throws<HlcOffsetExceededException>(() => clock.Observe(remote));
                Assert.Equal(rejection, error.Rejection);
                Assert.Equal(before, clock.Last);
                Assert.Equal(twin.Last, clock.Last);
                Assert.Equal(NowOrExhausted(twin), NowOrExhausted(clock));
            },
            iter: Laws.Iterations);

    [Fact]
    public void Rejection_message_names_both_times_and_the_bound()
    {
        var clock = new HybridLogicalClock(new FakeTimeProvider(Start), MaxOffsetMs);
        var remote = new HlcTimestamp(Start.ToUnixTimeMilliseconds() + 812, 3);
        var error = Assert.Throws<HlcOffsetExceededException>(() => clock.Observe(remote));
        Assert.Equal(
            "Rejected remote HLC timestamp 2023-11-14T22:13:20.812Z,3 (physical 1700000000812 ms): it is 812 ms ahead of local physical time 2023-11-14T22:13:20.000Z (1700000000000 ms), beyond MaxOffsetMs=500. It was not absorbed: the sender's clock or this node's clock is off by more than the configured bound.",
            error.Message);
    }

    [Fact]
    public void Remote_exactly_at_the_bound_is_accepted()
    {
        var clock = new HybridLogicalClock(new FakeTimeProvider(Start), MaxOffsetMs);
        var remote = new HlcTimestamp(Start.ToUnixTimeMilliseconds() + MaxOffsetMs, 7);
        Assert.Equal(new HlcTimestamp(remote.PhysicalMs, 8), clock.Observe(remote));
    }

    [Fact]
    public void Happened_before_is_preserved_across_nodes() =>
        Gen.Select(Gen.ULong, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], Gen.Long[-400, 400]).Array[1, 60]).Sample(
            (seed, steps) =>
            {
                const int Nodes = 3;
                var truth = new FakeTimeProvider(Start);
                var times = Enumerable.Range(0, Nodes).Select(_ => new SkewedTimeProvider(truth)).ToArray();
                var clocks = times.Select(t => new HybridLogicalClock(t, MaxOffsetMs)).ToArray();
                var causal = Enumerable.Repeat(VectorClock.Empty, Nodes).ToArray(); // ground truth
                var events = new List<(VectorClock Causal, HlcTimestamp Timestamp)>();
                var messages = new List<(VectorClock Causal, HlcTimestamp Timestamp)>();
                var random = new Concord.Core.Randomness.SeededRandom(seed);
                foreach (var (node, kind, ms) in steps)
                {
                    var id = new NodeId((uint)node);
                    switch (kind)
                    {
                        case 0: // skew within the bound, forwards or backwards
                            times[node].Skew = TimeSpan.FromMilliseconds(ms / 2);
                            truth.Advance(TimeSpan.FromMilliseconds(Math.Abs(ms) % 7));
                            continue;
                        case 1 when messages.Count > 0: // receive
                            var message = messages[random.NextInt(messages.Count)];
                            causal[node] = causal[node].Merge(message.Causal).Increment(id);
                            var received = clocks[node].Observe(message.Timestamp);
                            Assert.True(received > message.Timestamp, $"receive {received} not after send {message.Timestamp}");
                            events.Add((causal[node], received));
                            continue;
                        default: // local or send event
                            causal[node] = causal[node].Increment(id);
                            var sent = clocks[node].Now();
                            events.Add((causal[node], sent));
                            if (kind == 2)
                            {
                                messages.Add((causal[node], sent));
                            }

                            continue;
                    }
                }

                foreach (var a in events)
                {
                    foreach (var b in events)
                    {
                        if (a.Causal.Compare(b.Causal) == CausalOrder.Before)
                        {
                            Assert.True(a.Timestamp < b.Timestamp, $"{a.Causal} happened before {b.Causal} but {a.Timestamp} >= {b.Timestamp}");
                        }
                    }
                }
            },
            iter: Laws.Iterations);

    [Fact]
    public void Logical_overflow_borrows_a_millisecond_up_to_the_offset_bound_then_throws()
    {
        var truth = new FakeTimeProvider(Start);
        var clock = new HybridLogicalClock(truth, maxOffsetMs: 1);
        long now = Start.ToUnixTimeMilliseconds();
        HlcTimestamp last = clock.Now();
        for (int i = 0; i < ushort.MaxValue; i++)
        {
            last = clock.Now();
        }

        Assert.Equal(new HlcTimestamp(now, ushort.MaxValue), last);
        Assert.Equal(new HlcTimestamp(now + 1, 0), clock.Now()); // borrowed: 1 ms ahead, within the bound
        for (int i = 0; i < ushort.MaxValue; i++)
        {
            clock.Now();
        }

        Assert.Equal(new HlcTimestamp(now + 1, ushort.MaxValue), clock.Last);
        var error = Assert.Throws<HlcCounterExhaustedException>(() => clock.Now());
        Assert.Equal(clock.Last, error.Last);
        Assert.Contains("MaxOffsetMs=1", error.Message, StringComparison.Ordinal);

        truth.Advance(TimeSpan.FromMilliseconds(1)); // physical time catches up: room to borrow again
        Assert.Equal(new HlcTimestamp(now + 2, 0), clock.Now());
    }

    [Fact]
    public void Observe_with_a_full_counter_borrows_too()
    {
        var clock = new HybridLogicalClock(new FakeTimeProvider(Start), MaxOffsetMs);
        var remote = new HlcTimestamp(Start.ToUnixTimeMilliseconds() + 10, ushort.MaxValue);
        Assert.Equal(new HlcTimestamp(remote.PhysicalMs + 1, 0), clock.Observe(remote));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(HybridLogicalClock.MaxOffsetMsLimit + 1)]
    public void Invalid_max_offset_is_rejected_with_a_clear_error(long maxOffsetMs)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HybridLogicalClock(TimeProvider.System, maxOffsetMs));
        Assert.Contains("maxOffsetMs must be within [1, 60000]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Time_before_the_epoch_is_rejected()
    {
        var time = new SkewedTimeProvider(new FakeTimeProvider(DateTimeOffset.UnixEpoch)) { Skew = TimeSpan.FromMilliseconds(-1) };
        var error = Assert.Throws<InvalidOperationException>(() => new HybridLogicalClock(time, MaxOffsetMs).Now());
        Assert.Contains("-1 Unix ms", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every issued timestamp exceeds the previous one and every observed remote; a remote is
    /// refused exactly when it is more than MaxOffsetMs ahead, and a refusal changes nothing.
    /// </summary>
    private static void AssertMonotonic(Func<TimeProvider, ITimestampSource> create) =>
        Steps.Array[1, 60].Sample(
            steps =>
            {
                var truth = new FakeTimeProvider(Start);
                var time = new SkewedTimeProvider(truth);
                Replay(steps, truth, time, create(time));
            },
            iter: Laws.Iterations);

    private static (HybridLogicalClock Clock, SkewedTimeProvider Time) AfterHistory((Action Action, long Ms, ushort Logical)[] history)
    {
        var truth = new FakeTimeProvider(Start);
        var time = new SkewedTimeProvider(truth);
        var clock = new HybridLogicalClock(time, MaxOffsetMs);
        Replay(history, truth, time, new Hlc(clock));
        return (clock, time);
    }

    private static HlcTimestamp? NowOrExhausted(HybridLogicalClock clock)
    {
        try
        {
            return clock.Now();
        }
        catch (HlcCounterExhaustedException)
        {
            return null;
        }
    }

    private static void Replay((Action Action, long Ms, ushort Logical)[] steps, FakeTimeProvider truth, SkewedTimeProvider time, ITimestampSource clock)
    {
        HlcTimestamp last = HlcTimestamp.Zero;
        foreach (var (action, ms, logical) in steps)
        {
            long localMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            try
            {
                switch (action)
                {
                    case Action.Advance:
                        truth.Advance(TimeSpan.FromMilliseconds(Math.Abs(ms)));
                        break;
                    case Action.Jump:
                        time.Skew = TimeSpan.FromMilliseconds(ms); // NTP step, either direction
                        break;
                    case Action.Now:
                        HlcTimestamp now = clock.Now();
                        Assert.True(now > last, $"Now() returned {now} after {last}");
                        last = now;
                        break;
                    case Action.Observe:
                        var remote = new HlcTimestamp(localMs + ms, logical);
                        bool accepted = clock.TryObserve(remote, out HlcTimestamp observed);
                        Assert.Equal(ms <= MaxOffsetMs, accepted);
                        if (accepted)
                        {
                            Assert.True(observed > last, $"Observe({remote}) returned {observed} after {last}");
                            Assert.True(observed > remote, $"Observe({remote}) returned {observed}, not after the remote");
                            last = observed;
                        }

                        break;
                }
            }
            catch (HlcCounterExhaustedException error)
            {
                // Legitimate only with a full counter whose borrow would overrun the offset bound.
                Assert.Equal(HlcTimestamp.LogicalMax, error.Last.Logical);
                Assert.Equal(localMs, error.LocalPhysicalMs);
                Assert.True(error.Last.PhysicalMs + 1 - localMs > MaxOffsetMs, error.Message);
                Assert.True(error.Last >= last, error.Message);
            }
        }
    }

    private sealed class Hlc(HybridLogicalClock clock) : ITimestampSource
    {
        public HlcTimestamp Now() => clock.Now();

        public bool TryObserve(HlcTimestamp remote, out HlcTimestamp timestamp) => clock.TryObserve(remote, out timestamp, out _);
    }

    /// <summary>Broken on purpose: stamps events with physical time alone.</summary>
    private sealed class PhysicalOnly(TimeProvider time) : ITimestampSource
    {
        public HlcTimestamp Now() => new(time.GetUtcNow().ToUnixTimeMilliseconds(), 0);

        public bool TryObserve(HlcTimestamp remote, out HlcTimestamp timestamp)
        {
            long localMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            timestamp = Now();
            return remote.PhysicalMs - localMs <= MaxOffsetMs;
        }
    }
}
