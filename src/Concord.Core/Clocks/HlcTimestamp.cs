using System.Globalization;

namespace Concord.Core.Clocks;

/// <summary>
/// A hybrid logical clock timestamp: 48 bits of Unix milliseconds and a 16-bit logical counter,
/// ordered by (physical, logical). <see cref="Pack"/> puts the physical part in the high bits, so
/// packed values compare as unsigned integers in the same order (useful as a sortable key).
/// 48 bits of milliseconds last until the year 10889.
/// </summary>
public readonly struct HlcTimestamp : IEquatable<HlcTimestamp>, IComparable<HlcTimestamp>
{
    public const int LogicalBits = 16;
    public const long PhysicalMsMax = (1L << 48) - 1;
    public const ushort LogicalMax = ushort.MaxValue;

    private static readonly long DateTimeOffsetMsMax = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private readonly ulong _packed;

    public HlcTimestamp(long physicalMs, ushort logical)
    {
        if (physicalMs is < 0 or > PhysicalMsMax)
        {
            throw new ArgumentOutOfRangeException(
                nameof(physicalMs),
                physicalMs,
                string.Create(CultureInfo.InvariantCulture, $"physicalMs must be within [0, {PhysicalMsMax}] (48 bits of Unix milliseconds)."));
        }

        _packed = ((ulong)physicalMs << LogicalBits) | logical;
    }

    private HlcTimestamp(ulong packed) => _packed = packed;

    /// <summary>The smallest timestamp: the Unix epoch, logical 0. Every issued timestamp is greater.</summary>
    public static HlcTimestamp Zero => default;

    /// <summary>Unix milliseconds: the largest physical time this timestamp's causal past has seen.</summary>
    public long PhysicalMs => (long)(_packed >> LogicalBits);

    /// <summary>Orders events that share <see cref="PhysicalMs"/>.</summary>
    public ushort Logical => (ushort)_packed;

    public ulong Pack() => _packed;

    /// <summary>Every 64-bit value is a valid timestamp, so unpacking cannot fail.</summary>
    public static HlcTimestamp Unpack(ulong packed) => new(packed);

    public int CompareTo(HlcTimestamp other) => _packed.CompareTo(other._packed);

    public bool Equals(HlcTimestamp other) => _packed == other._packed;

    public override bool Equals(object? obj) => obj is HlcTimestamp other && Equals(other);

    public override int GetHashCode() => _packed.GetHashCode();

    /// <summary>ISO 8601 UTC with milliseconds, then the logical counter: <c>2025-11-26T10:21:00.123Z,5</c>.</summary>
    public override string ToString() => FormatPhysical(PhysicalMs) + "," + Logical.ToString(CultureInfo.InvariantCulture);

    /// <summary>Unix milliseconds as ISO 8601 UTC, or as a number past the year 9999.</summary>
    internal static string FormatPhysical(long physicalMs) =>
        physicalMs is >= 0 and <= PhysicalMsMax && physicalMs <= DateTimeOffsetMsMax
            ? DateTimeOffset.FromUnixTimeMilliseconds(physicalMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
            : physicalMs.ToString(CultureInfo.InvariantCulture) + "ms";

    public static bool operator ==(HlcTimestamp left, HlcTimestamp right) => left._packed == right._packed;

    public static bool operator !=(HlcTimestamp left, HlcTimestamp right) => left._packed != right._packed;

    public static bool operator <(HlcTimestamp left, HlcTimestamp right) => left._packed < right._packed;

    public static bool operator >(HlcTimestamp left, HlcTimestamp right) => left._packed > right._packed;

    public static bool operator <=(HlcTimestamp left, HlcTimestamp right) => left._packed <= right._packed;

    public static bool operator >=(HlcTimestamp left, HlcTimestamp right) => left._packed >= right._packed;
}
