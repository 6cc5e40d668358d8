using Concord.Core.Clocks;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Clocks;

public class HlcTimestampTests
{
    private static readonly Gen<HlcTimestamp> Timestamps =
        Gen.Select(
            Gen.OneOf(Gen.Long[0, HlcTimestamp.PhysicalMsMax], Gen.Long[1_700_000_000_000, 1_700_000_000_003], Gen.OneOfConst(0L, HlcTimestamp.PhysicalMsMax)),
            Gen.OneOf(Gen.UShort, Gen.OneOfConst((ushort)0, (ushort)1, ushort.MaxValue)),
            (physical, logical) => new HlcTimestamp(physical, logical));

    [Fact]
    public void Pack_round_trips() =>
        Timestamps.Sample(
            t =>
            {
                HlcTimestamp back = HlcTimestamp.Unpack(t.Pack());
                Assert.Equal(t, back);
                Assert.Equal(t.PhysicalMs, back.PhysicalMs);
                Assert.Equal(t.Logical, back.Logical);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Packing_preserves_order() =>
        Gen.Select(Timestamps, Timestamps).Sample(
            (a, b) =>
            {
                int expected = a.PhysicalMs != b.PhysicalMs ? a.PhysicalMs.CompareTo(b.PhysicalMs) : a.Logical.CompareTo(b.Logical);
                Assert.Equal(Math.Sign(expected), Math.Sign(a.CompareTo(b)));
                Assert.Equal(Math.Sign(expected), Math.Sign(a.Pack().CompareTo(b.Pack())));
                Assert.Equal(expected < 0, a < b);
                Assert.Equal(expected == 0, a == b);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Encoding_is_48_bits_of_milliseconds_then_16_bits_of_counter()
    {
        var t = new HlcTimestamp(0x0000_1234_5678_9ABC, 0xDEF0);
        Assert.Equal(0x1234_5678_9ABC_DEF0UL, t.Pack());
    }

    [Fact]
    public void ToString_is_readable()
    {
        Assert.Equal("2023-11-14T22:13:20.123Z,5", new HlcTimestamp(1_700_000_000_123, 5).ToString());
        Assert.Equal("1970-01-01T00:00:00.000Z,0", HlcTimestamp.Zero.ToString());
        Assert.Equal("281474976710655ms,65535", HlcTimestamp.Unpack(ulong.MaxValue).ToString());
    }

    [Fact]
    public void Out_of_range_physical_time_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HlcTimestamp(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HlcTimestamp(HlcTimestamp.PhysicalMsMax + 1, 0));
    }
}
