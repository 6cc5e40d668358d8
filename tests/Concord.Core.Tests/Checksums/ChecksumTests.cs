using System.IO.Hashing;
using System.Text;
using Concord.Core.Checksums;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Checksums;

public class ChecksumTests
{
    /// <summary>A field: 0 null, 1 bytes, 2 string, 3 integer, 4 boolean; payloads over a tiny alphabet, including the
    /// tag and length bytes themselves, so that an encoding without them collides often.</summary>
    private static readonly Gen<(int Kind, string Text, long Number)> Fields =
        Gen.Select(Gen.Int[0, 4], Gen.OneOfConst("", "a", "b", "ab", "ba", "\0", "\u0001\0\0\0a", "a\u0002", "\u0002b", "\u0001a"), Gen.OneOfConst(0L, 1L, 97L, 0x6261L, -1L));

    private static readonly Gen<(int Kind, string Text, long Number)[]> Rows = Fields.Array[0, 4];

    /// <summary>
    /// Pairs of rows: independent ones, and the adversarial kind, one string cut into fields at two
    /// different sets of places. The string is made of tag and length bytes, so a field boundary
    /// that an encoding does not mark unambiguously will show up as a collision.
    /// </summary>
    private static readonly Gen<((int Kind, string Text, long Number)[] A, (int Kind, string Text, long Number)[] B)> RowPairs =
        Gen.OneOf(
            Gen.Select(Rows, Rows),
            Gen.Select(Gen.Int[1, 2], Gen.OneOfConst('a', '\0', '\u0001', '\u0002').Array[0, 8], Gen.Bool.Array[9], Gen.Bool.Array[9])
                .Select((kind, chars, cutsA, cutsB) => (Split(kind, new string(chars), cutsA), Split(kind, new string(chars), cutsB))));

    [Fact]
    public void Hash64_and_Hash128_are_the_raw_xxhash3_values() =>
        Gen.Byte.Array[0, 300].Sample(
            data =>
            {
                Assert.Equal(XxHash3.HashToUInt64(data), Checksum.Hash64(data));
                Assert.Equal(XxHash128.HashToUInt128(data), Checksum.Hash128(data));
            },
            iter: Laws.Iterations);

    [Fact]
    public void Hash64_matches_the_xxh3_specification_for_empty_input() =>
        Assert.Equal(0x2D06800538D394C2UL, Checksum.Hash64([]));

    [Fact]
    public void Row_encoding_is_unambiguous() => AssertInjective(CanonicalHash);

    [Fact]
    public void Negative_control_concatenation_is_ambiguous() =>
        Assert.Throws<CsCheckException>(() => AssertInjective(row =>
            XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(string.Concat(row.Select(f => f.Kind == 3 ? f.Number.ToString(System.Globalization.CultureInfo.InvariantCulture) : f.Text))))));

    [Fact]
    public void Row_examples()
    {
        Assert.NotEqual(Hash(h => { h.AddString("ab"); h.AddString("c"); }), Hash(h => { h.AddString("a"); h.AddString("bc"); }));
        Assert.NotEqual(Hash(h => h.AddString("")), Hash(h => h.AddString(null)));
        Assert.NotEqual(Hash(h => h.AddString("a")), Hash(h => h.AddBytes("a"u8)));
        Assert.Equal(Hash(h => h.AddString(null)), Hash(h => h.AddNull()));
        string large = new('x', 10_000); // past the stack buffer
        Assert.Equal(Hash(h => h.AddString(large)), Hash(h => h.AddString(large)));
        Assert.NotEqual(Hash(h => h.AddString(large)), Hash(h => h.AddString(large + "x")));
    }

    [Fact]
    public void Unordered_checksum_is_order_independent_and_add_then_remove_restores() =>
        Gen.Select(Gen.ULong, Hashes.Array[0, 40], Hashes.Array[0, 40]).Sample(
            (seed, items, extra) =>
            {
                UnorderedChecksum forward = Of(items);
                var shuffled = (UInt128[])items.Clone();
                new Concord.Core.Randomness.SeededRandom(seed).Shuffle(shuffled.AsSpan());
                Assert.Equal(forward, Of(shuffled));
                Assert.Equal(Of(items.Concat(extra)), forward.Combine(Of(extra)));

                UnorderedChecksum grown = Of(items.Concat(extra));
                foreach (var item in extra.Reverse())
                {
                    grown = grown.Remove(item);
                }

                Assert.Equal(forward, grown);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Unordered_checksum_distinguishes_multisets() =>
        AssertDistinguishesMultisets(items => Of(items).ToString());

    [Fact]
    public void Negative_control_xor_cannot_see_duplicates() =>
        Assert.Throws<CsCheckException>(() => AssertDistinguishesMultisets(items =>
            items.Aggregate(UInt128.Zero, (x, h) => x ^ h) + "/" + items.Count));

    [Fact]
    public void Removing_from_an_empty_checksum_throws() =>
        Assert.Throws<InvalidOperationException>(() => UnorderedChecksum.Empty.Remove(1));

    private static Gen<UInt128> Hashes => Gen.Select(Gen.ULong, Gen.ULong, (high, low) => new UInt128(high, low));

    private static UnorderedChecksum Of(IEnumerable<UInt128> items) =>
        items.Aggregate(UnorderedChecksum.Empty, (sum, item) => sum.Add(item));

    /// <summary>Different multisets over a pool of three random hashes get different checksums.</summary>
    private static void AssertDistinguishesMultisets(Func<IReadOnlyList<UInt128>, string> checksum) =>
        Gen.Select(Hashes.Array[3], Gen.Int[0, 2].Array[0, 6], Gen.Int[0, 2].Array[0, 6]).Sample(
            (pool, left, right) =>
            {
                bool same = left.Order().SequenceEqual(right.Order());
                bool collide = checksum(left.Select(i => pool[i]).ToArray()) == checksum(right.Select(i => pool[i]).ToArray());
                Assert.Equal(same, collide);
            },
            iter: Laws.Iterations);

    private static (int Kind, string Text, long Number)[] Split(int kind, string text, bool[] cuts)
    {
        var fields = new List<(int, string, long)>();
        int start = 0;
        for (int i = 1; i < text.Length; i++)
        {
            if (cuts[i])
            {
                fields.Add((kind, text[start..i], 0));
                start = i;
            }
        }

        fields.Add((kind, text[start..], 0));
        return fields.ToArray();
    }

    private static void AssertInjective(Func<(int Kind, string Text, long Number)[], UInt128> hash) =>
        RowPairs.Sample(
            (a, b) =>
            {
                bool same = a.Select(Canonical).SequenceEqual(b.Select(Canonical));
                Assert.Equal(same, hash(a) == hash(b));
            },
            iter: Laws.Iterations);

    /// <summary>The field as the hasher sees it: payloads that a kind ignores are blanked.</summary>
    private static (int, string, long) Canonical((int Kind, string Text, long Number) f) =>
        f.Kind switch
        {
            0 => (0, "", 0),
            1 or 2 => (f.Kind, f.Text, 0),
            3 => (3, "", f.Number),
            _ => (4, "", f.Number & 1),
        };

    private static UInt128 CanonicalHash((int Kind, string Text, long Number)[] row)
    {
        var hasher = new RowHasher();
        hasher.AddString("noise"); // Finish must reset, so an earlier row cannot leak into this one
        hasher.Finish();
        foreach (var (kind, text, number) in row)
        {
            switch (kind)
            {
                case 0: hasher.AddNull(); break;
                case 1: hasher.AddBytes(Encoding.UTF8.GetBytes(text)); break;
                case 2: hasher.AddString(text); break;
                case 3: hasher.AddInt64(number); break;
                default: hasher.AddBoolean((number & 1) == 1); break;
            }
        }

        return hasher.Finish();
    }

    private static UInt128 Hash(Action<RowHasher> fields)
    {
        var hasher = new RowHasher();
        fields(hasher);
        return hasher.Finish();
    }
}
