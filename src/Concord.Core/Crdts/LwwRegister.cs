using Concord.Core.Clocks;

namespace Concord.Core.Crdts;

/// <summary>
/// Last-writer-wins register: the value with the largest (HLC timestamp, writer) wins; the writer's
/// node id breaks timestamp ties, so every replica picks the same winner. Concurrent writes other
/// than the winner are lost by design; use <see cref="MVRegister{T}"/> to keep them.
/// </summary>
public sealed class LwwRegister<T> : IStateCrdt<LwwRegister<T>>
{
    private static readonly EqualityComparer<T> ValueComparer = EqualityComparer<T>.Default;

    private readonly T _value;

    private LwwRegister(bool hasValue, T value, HlcTimestamp timestamp, NodeId writer)
    {
        HasValue = hasValue;
        _value = value;
        Timestamp = timestamp;
        Writer = writer;
    }

    public static LwwRegister<T> Empty { get; } = new(false, default!, HlcTimestamp.Zero, default);

    public bool HasValue { get; }

    /// <summary>The winning value; throws <see cref="InvalidOperationException"/> when never written.</summary>
    public T Value => HasValue ? _value : throw new InvalidOperationException("The register has never been written.");

    public HlcTimestamp Timestamp { get; }

    public NodeId Writer { get; }

    /// <summary>
    /// Writes at an explicit timestamp, which must order after the current one; a write that would
    /// lose to the current value on arrival is refused rather than silently dropped.
    /// </summary>
    public DeltaMutation<LwwRegister<T>> Set(T value, NodeId writer, HlcTimestamp timestamp)
    {
        var written = new LwwRegister<T>(true, value, timestamp, writer);
        if (HasValue && !Wins(written, this))
        {
            throw new ArgumentException(
                $"Write at ({timestamp}, {writer}) does not order after the current value's ({Timestamp}, {Writer}) and would be lost; observe the register's timestamp with the writer's HLC first.",
                nameof(timestamp));
        }

        return new DeltaMutation<LwwRegister<T>>(written, written);
    }

    /// <summary>
    /// Writes at a timestamp from <paramref name="clock"/> after observing the current timestamp, so
    /// a write made after reading the register always wins over what was read.
    /// </summary>
    public DeltaMutation<LwwRegister<T>> Set(T value, NodeId writer, HybridLogicalClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return Set(value, writer, HasValue ? clock.Observe(Timestamp) : clock.Now());
    }

    public LwwRegister<T> Merge(LwwRegister<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other.HasValue)
        {
            return this;
        }

        if (!HasValue)
        {
            return other;
        }

        if (Timestamp == other.Timestamp && Writer == other.Writer)
        {
            // A writer never issues the same HLC timestamp twice, so one (timestamp, writer) is one write.
            Invariant.Assert(ValueComparer.Equals(_value, other._value));
            return this;
        }

        return Wins(other, this) ? other : this;
    }

    public bool Equals(LwwRegister<T>? other) =>
        other is not null
        && HasValue == other.HasValue
        && Timestamp == other.Timestamp
        && Writer == other.Writer
        && ValueComparer.Equals(_value, other._value);

    public override bool Equals(object? obj) => Equals(obj as LwwRegister<T>);

    public override int GetHashCode() => HashCode.Combine(HasValue, Timestamp, Writer);

    public override string ToString() => HasValue ? $"LwwRegister({_value} @ {Timestamp} by {Writer})" : "LwwRegister(empty)";

    private static bool Wins(LwwRegister<T> candidate, LwwRegister<T> incumbent) =>
        candidate.Timestamp > incumbent.Timestamp
        || (candidate.Timestamp == incumbent.Timestamp && candidate.Writer > incumbent.Writer);
}
