using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Concord.Simulation.Tracing;

/// <summary>
/// What the trace records besides its hash. The hash always covers every event's kind, time,
/// endpoints and ids; message contents enter it only through <see cref="Fingerprint"/>, because
/// <see cref="object.GetHashCode"/> is randomized per process and would break replay.
/// </summary>
public sealed class TraceOptions<TMessage>
{
    /// <summary>Receives one line per event; null keeps no text (the hash is still computed).</summary>
    public TextWriter? Writer { get; init; }

    /// <summary>A stable 64-bit digest of a message, mixed into the trace hash; see <see cref="TraceFingerprint"/>.</summary>
    public Func<TMessage, ulong>? Fingerprint { get; init; }

    /// <summary>Renders a message for <see cref="Writer"/>; defaults to <c>ToString()</c>.</summary>
    public Func<TMessage, string>? Format { get; init; }
}

/// <summary>Stable digests for <see cref="TraceOptions{TMessage}.Fingerprint"/>.</summary>
public static class TraceFingerprint
{
    /// <summary>XxHash3 of the UTF-16 code units: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
    public static ulong Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(text.AsSpan()));
    }

    /// <summary>The digest of <c>value.ToString()</c>; fine for records of primitives, which print every field.</summary>
    public static ulong OfText<T>(T value) => Of(value?.ToString() ?? string.Empty);
}
