using Concord.Core;

namespace Concord.Experiments.Commerce;

/// <summary>What a customer asks of a boundary's store, independent of how the store replicates.</summary>
internal enum StepKind
{
    /// <summary>At the boundary's read level: R on the quorum store; on Raft, the node's read mode.</summary>
    Read,

    Write,

    /// <summary>Write <see cref="KvStep.Value"/> only if the key holds <see cref="KvStep.Expected"/> (null: absent).</summary>
    CompareAndSet,

    /// <summary>Add one to a CRDT counter.</summary>
    Increment,
}

internal readonly record struct KvStep(StepKind Kind, string Key, long Value = 0, long? Expected = null);

internal enum StepStatus
{
    Ok,
    CompareFailed,

    /// <summary>Refused or unreachable: nothing was applied.</summary>
    Failed,

    /// <summary>No answer in time: it may or may not have been applied.</summary>
    Timeout,
}

/// <summary><see cref="Value"/>: what a read returned (null: absent); for a failed compare, the current value when known.</summary>
internal readonly record struct StepOutcome(StepStatus Status, long? Value);

/// <summary>The business operations customers perform, one per boundary.</summary>
public enum PlatformOpKind
{
    /// <summary>Inventory: take one unit of a SKU.</summary>
    Reserve,

    /// <summary>Ledger: credit a merchant account.</summary>
    Pay,

    /// <summary>Orders: record a new order for the customer.</summary>
    PlaceOrder,

    /// <summary>Orders: the customer reads its orders back.</summary>
    ReadOrders,

    /// <summary>Catalog: a customer reads a price.</summary>
    Browse,

    /// <summary>Catalog: the admin changes a price.</summary>
    UpdatePrice,

    /// <summary>Likes: increment a SKU's like counter.</summary>
    Like,

    /// <summary>Reservation cache: count a reservation the source of truth already holds.</summary>
    CacheReservation,
}

/// <summary>One business operation as recorded. <see cref="Value"/>: the unique value written by writes known at invoke time.</summary>
public sealed record PlatformOp(PlatformOpKind Kind, string Key, long Value = 0);

/// <summary>
/// How it ended. For read-modify-writes, <see cref="Parent"/> is the value the write was computed
/// from and <see cref="Written"/> the value written, so lost updates can be traced exactly.
/// <see cref="SoldOut"/>: a reservation correctly refused for lack of stock (not a failure).
/// </summary>
public sealed record PlatformOpResult(long? Returned = null, long? Parent = null, long? Written = null, bool SoldOut = false);

/// <summary>
/// Counters stored as one integer that is also unique per write: count × 2^24 + tag, the tag drawn
/// from a run-wide sequence. Uniqueness lets the lost-update analysis name the write each state came
/// from; the count is what the business sees.
/// </summary>
internal static class CountedValue
{
    public const int TagBits = 24;

    public static long Encode(long count, long tag)
    {
        Invariant.Assert(tag is > 0 and < 1L << TagBits, "tag out of range");
        return (count << TagBits) | tag;
    }

    /// <summary>An absent key holds <paramref name="initial"/>.</summary>
    public static long CountOf(long? value, long initial) => value is { } v ? v >> TagBits : initial;
}
