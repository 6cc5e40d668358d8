using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Concord.Core.Checksums;

/// <summary>
/// Checksums of byte spans: XXH3 64-bit and XXH128 (Collet, xxHash). Thin inlined wrappers so the
/// hot path runs at the speed of the raw hash; the benchmarks measure both side by side. Fast and
/// stable across platforms and versions, but not cryptographic: they detect accidental drift, not
/// an adversary.
/// </summary>
public static class Checksum
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash64(ReadOnlySpan<byte> data) => XxHash3.HashToUInt64(data);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Hash128(ReadOnlySpan<byte> data) => XxHash128.HashToUInt128(data);
}
