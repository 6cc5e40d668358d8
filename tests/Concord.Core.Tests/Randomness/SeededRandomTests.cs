using Concord.Core.Randomness;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Randomness;

public class SeededRandomTests
{
    // First outputs of the reference xoshiro256** (prng.di.unimi.it) seeded with four SplitMix64
    // outputs, computed independently of this code. If these change, every recorded seed breaks.
    [Theory]
    [InlineData(0UL, 0x99ec5f36cb75f2b4UL, 0xbf6e1f784956452aUL, 0x1a5f849d4933e6e0UL, 0x6aa594f1262d2d2cUL)]
    [InlineData(42UL, 0x15780b2e0c2ec716UL, 0x6104d9866d113a7eUL, 0xae17533239e499a1UL, 0xecb8ad4703b360a1UL)]
    [InlineData(ulong.MaxValue, 0x8f5520d52a7ead08UL, 0xc476a018caa1802dUL, 0x81de31c0d260469eUL, 0xbf658d7e065f3c2fUL)]
    public void Matches_reference_xoshiro256starstar(ulong seed, ulong first, ulong second, ulong third, ulong fourth)
    {
        var random = new SeededRandom(seed);
        Assert.Equal([first, second, third, fourth], [random.NextUInt64(), random.NextUInt64(), random.NextUInt64(), random.NextUInt64()]);
    }

    [Fact]
    public void Derived_streams_are_pinned()
    {
        // Derivation hashes with XXH3, fixed by its specification (checked in ChecksumTests); pinned
        // from this implementation so a change to derivation cannot slip through unnoticed.
        var root = new SeededRandom(42);
        Assert.Equal(root.Derive("network").Seed, new SeededRandom(42).Derive("network").Seed);
        Assert.Equal(0xE3BBBA7B4D2749FAUL, root.Derive("network").Seed);
    }

    [Fact]
    public void Same_seed_gives_same_sequence() =>
        Gen.ULong.Sample(
            seed =>
            {
                var a = new SeededRandom(seed);
                var b = new SeededRandom(seed);
                for (int i = 0; i < 32; i++)
                {
                    Assert.Equal(a.NextUInt64(), b.NextUInt64());
                    Assert.Equal(a.NextInt(-5, 1_000), b.NextInt(-5, 1_000));
                    Assert.Equal(a.NextDouble(), b.NextDouble());
                }
            },
            iter: Laws.Iterations);

    [Fact]
    public void Derive_is_reproducible_and_independent_of_draws_from_the_parent() =>
        Gen.Select(Gen.ULong, Gen.String, Gen.ULong, Gen.Int[0, 20]).Sample(
            (seed, label, stream, drawsFirst) =>
            {
                var parent = new SeededRandom(seed);
                var labelled = parent.Derive(label);
                var numbered = parent.Derive(stream);
                for (int i = 0; i < drawsFirst; i++)
                {
                    parent.NextUInt64();
                }

                Assert.Equal(First(labelled, 4), First(parent.Derive(label), 4));
                Assert.Equal(First(numbered, 4), First(parent.Derive(stream), 4));
                Assert.Equal(First(new SeededRandom(labelled.Seed), 4), First(parent.Derive(label), 4));
            },
            iter: Laws.Iterations);

    [Fact]
    public void Derived_streams_differ_from_parent_siblings_and_other_kinds() =>
        Gen.Select(Gen.ULong, Gen.String, Gen.String, Gen.ULong, Gen.ULong).Sample(
            (seed, label, otherLabel, stream, otherStream) =>
            {
                var parent = new SeededRandom(seed);
                var firsts = new List<ulong[]> { First(new SeededRandom(seed), 2), First(parent.Derive(label), 2), First(parent.Derive(stream), 2) };
                if (label != otherLabel)
                {
                    firsts.Add(First(parent.Derive(otherLabel), 2));
                }

                if (stream != otherStream)
                {
                    firsts.Add(First(parent.Derive(otherStream), 2));
                }

                // Two 64-bit outputs colliding by chance has probability about 2^-128.
                Assert.Equal(firsts.Count, firsts.Select(f => (f[0], f[1])).Distinct().Count());
            },
            iter: Laws.Iterations);

    [Fact]
    public void Bounded_draws_stay_within_bounds() =>
        Gen.Select(Gen.ULong, Gen.Int, Gen.Int, Gen.ULong).Sample(
            (seed, x, y, maxUInt64) =>
            {
                var random = new SeededRandom(seed);
                int min = Math.Min(x, y), max = Math.Max(x, y);
                int maxExclusive = Math.Max(1, max);
                for (int i = 0; i < 16; i++)
                {
                    int below = random.NextInt(maxExclusive);
                    Assert.InRange(below, 0, maxExclusive - 1);
                    if (min < max)
                    {
                        Assert.InRange(random.NextInt(min, max), min, max - 1);
                    }

                    if (maxUInt64 > 0)
                    {
                        Assert.True(random.NextUInt64(maxUInt64) < maxUInt64);
                    }

                    double unit = random.NextDouble();
                    Assert.True(unit is >= 0.0 and < 1.0, $"NextDouble returned {unit}");
                }
            },
            iter: Laws.Iterations);

    [Fact]
    public void Extreme_ranges_are_covered()
    {
        var random = new SeededRandom(7);
        Assert.InRange(random.NextInt(int.MinValue, int.MaxValue), int.MinValue, int.MaxValue - 1);
        Assert.Equal(0, random.NextInt(1));
        Assert.Equal(-3, random.NextInt(-3, -2));
        Assert.False(random.NextBool(0.0));
        Assert.True(random.NextBool(1.0));
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var random = new SeededRandom(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextUInt64(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextBool(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextBool(double.NaN));
        Assert.Throws<ArgumentNullException>(() => random.Derive(null!));
    }

    [Fact]
    public void NextInt_is_uniform() => AssertUniform(random => random.NextInt(6), buckets: 6);

    [Fact]
    public void Negative_control_modulo_bias_fails_the_uniformity_check() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertUniform(random => (int)((random.NextUInt64() & 7) % 6), buckets: 6));

    [Fact]
    public void Shuffle_is_a_reproducible_uniform_permutation()
    {
        Gen.Select(Gen.ULong, Gen.Int.Array[0, 50]).Sample(
            (seed, items) =>
            {
                int[] a = (int[])items.Clone(), b = (int[])items.Clone();
                new SeededRandom(seed).Shuffle(a.AsSpan());
                new SeededRandom(seed).Shuffle(b.AsSpan());
                Assert.Equal(a, b);
                Assert.Equal(items.Order(), a.Order());
            },
            iter: Laws.Iterations);

        // Each of the 6 orders of three items should come up about equally often.
        AssertUniform(
            random =>
            {
                Span<int> items = [0, 1, 2];
                random.Shuffle(items);
                return (items[0] * 2) + (items[1] > items[0] ? items[1] - 1 : items[1]);
            },
            buckets: 6);
    }

    private static ulong[] First(SeededRandom random, int count) => Enumerable.Range(0, count).Select(_ => random.NextUInt64()).ToArray();

    /// <summary>Pearson's chi-squared test at p = 0.001 over a fixed seed, so it is not flaky.</summary>
    private static void AssertUniform(Func<SeededRandom, int> draw, int buckets)
    {
        Assert.Equal(6, buckets); // the critical value below is for 5 degrees of freedom
        const int Draws = 60_000;
        const double Critical = 20.515;
        var random = new SeededRandom(2024);
        var counts = new int[buckets];
        for (int i = 0; i < Draws; i++)
        {
            counts[draw(random)]++;
        }

        double expected = (double)Draws / buckets;
        double chiSquared = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chiSquared < Critical, $"chi-squared {chiSquared:F1} >= {Critical} for counts [{string.Join(", ", counts)}]");
    }
}
