using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Concord.Core.Randomness;

/// <summary>
/// A deterministic random source: xoshiro256** (Blackman and Vigna, "Scrambled linear
/// pseudorandom number generators", 2021) seeded through SplitMix64, as its authors recommend.
/// It is written out here rather than borrowed from <see cref="System.Random"/>, whose algorithm
/// is an implementation detail that has changed between .NET versions; a seed printed today must
/// replay the same run on every future runtime. Not cryptographic. Not thread-safe: give each
/// component its own stream with <see cref="Derive(string)"/>.
/// </summary>
/// <remarks>
/// One root seed derives every random choice in a simulation (TigerBeetle's VOPR does the same):
/// <c>root.Derive("network")</c>, <c>root.Derive("disk").Derive(replicaIndex)</c>. Derivation is a
/// pure function of this stream's <see cref="Seed"/> and the label, independent of how many values
/// were drawn, so adding a draw in one component never shifts the choices of another.
/// </remarks>
public sealed class SeededRandom
{
    // Domain separation: a label and a stream number can never hash the same input bytes.
    private const byte LabelDomain = (byte)'L';
    private const byte StreamDomain = (byte)'S';
    private const int StackLabelBytesMax = 256;

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SeededRandom(ulong seed)
    {
        Seed = seed;
        ulong splitMix = seed;
        _s0 = SplitMix64(ref splitMix);
        _s1 = SplitMix64(ref splitMix);
        _s2 = SplitMix64(ref splitMix);
        _s3 = SplitMix64(ref splitMix);
        // SplitMix64 is a bijection over consecutive states, so four zero outputs cannot occur;
        // the all-zero state is xoshiro's only fixed point and would emit zeros forever.
        Invariant.Assert((_s0 | _s1 | _s2 | _s3) != 0);
    }

    /// <summary>The seed this stream was created from; <c>new SeededRandom(Seed)</c> replays it.</summary>
    public ulong Seed { get; }

    /// <summary>Uniform over all 2^64 values.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public ulong NextUInt64(ulong maxExclusive)
    {
        if (maxExclusive == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "maxExclusive must be at least 1.");
        }

        // Lemire, "Fast random integer generation in an interval" (2019): take the high half of
        // a 64x64 multiply and reject the few low halves that would bias the result.
        ulong high = Math.BigMul(NextUInt64(), maxExclusive, out ulong low);
        if (low < maxExclusive)
        {
            ulong threshold = (0 - maxExclusive) % maxExclusive;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), maxExclusive, out low);
            }
        }

        return high;
    }

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "maxExclusive must be at least 1.");
        }

        return (int)NextUInt64((ulong)maxExclusive);
    }

    /// <summary>Uniform in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int minInclusive, int maxExclusive)
    {
        if (minInclusive >= maxExclusive)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxExclusive),
                maxExclusive,
                string.Create(CultureInfo.InvariantCulture, $"maxExclusive must be greater than minInclusive ({minInclusive})."));
        }

        ulong range = (ulong)((long)maxExclusive - minInclusive);
        return (int)(minInclusive + (long)NextUInt64(range));
    }

    /// <summary>Uniform in [0, 1) with 53 random bits, the full precision of a double.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// True with <paramref name="probability"/> (0 never, 1 always). Always consumes exactly one
    /// value, so the stream's position does not depend on the probability chosen.
    /// </summary>
    public bool NextBool(double probability = 0.5)
    {
        if (!(probability >= 0.0 && probability <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "probability must be within [0, 1].");
        }

        return NextDouble() < probability;
    }

    /// <summary>Fisher-Yates shuffle in place; every permutation is equally likely.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// A child stream named by <paramref name="label"/>: the same for the same (seed, label),
    /// different for different labels, and unaffected by draws from this stream.
    /// </summary>
    public SeededRandom Derive(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        int length = 1 + Encoding.UTF8.GetByteCount(label);
        Span<byte> input = length <= StackLabelBytesMax ? stackalloc byte[length] : new byte[length];
        input[0] = LabelDomain;
        Encoding.UTF8.GetBytes(label, input[1..]);
        return new SeededRandom(XxHash3.HashToUInt64(input, unchecked((long)Seed)));
    }

    /// <summary>A numbered child stream (e.g. one per replica); same guarantees as <see cref="Derive(string)"/>.</summary>
    public SeededRandom Derive(ulong stream)
    {
        Span<byte> input = stackalloc byte[1 + sizeof(ulong)];
        input[0] = StreamDomain;
        BinaryPrimitives.WriteUInt64LittleEndian(input[1..], stream);
        return new SeededRandom(XxHash3.HashToUInt64(input, unchecked((long)Seed)));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SeededRandom(seed={Seed})");

    private static ulong SplitMix64(ref ulong state)
    {
        // Steele, Lea and Flood, "Fast splittable pseudorandom number generators" (2014).
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
