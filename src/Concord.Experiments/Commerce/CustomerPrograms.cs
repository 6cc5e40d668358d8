using System.Globalization;
using Concord.Core.Randomness;
using Concord.Simulation.History;

namespace Concord.Experiments.Commerce;

/// <summary>A program's answer: the next store step of the current operation, or how the operation ended.</summary>
internal readonly record struct Decision(KvStep? Step, CompletionType Completion, PlatformOpResult? Result)
{
    public static Decision Do(KvStep step) => new(step, default, null);

    public static Decision Done(CompletionType completion, PlatformOpResult? result = null) => new(null, completion, result ?? new PlatformOpResult());

    /// <summary>Failed means nothing applied; a timeout leaves the outcome unknown.</summary>
    public static Decision Unsuccessful(StepOutcome outcome) => Done(outcome.Status == StepStatus.Timeout ? CompletionType.Info : CompletionType.Fail);
}

/// <summary>What every customer of one run shares: the scenario, a unique-tag sequence and the ground truth programs keep.</summary>
internal sealed class RunShared(PlatformScenario scenario, ConsistencyMapping mapping)
{
    public const int MerchantAccounts = 16;

    long _tag;

    public PlatformScenario Scenario { get; } = scenario;

    public PlatformWorkload Workload => Scenario.Workload;

    public ConsistencyMapping Mapping { get; } = mapping;

    /// <summary>Cleared when the workload's duration is over: customers start nothing new.</summary>
    public bool Open { get; set; } = true;

    /// <summary>Reservations per SKU as the source of truth holds them (for reconciling the cache).</summary>
    public Dictionary<string, int> ReservationsBySku { get; } = new(StringComparer.Ordinal);

    /// <summary>Unique across the run and increasing in simulated time.</summary>
    public long NextTag() => ++_tag;

    /// <summary>A SKU index: hot ones (the first HotSkus) with probability HotOrderShare, else uniform over the rest.</summary>
    public int Sku(SeededRandom random)
    {
        int hot = Math.Min(Workload.HotSkus, Workload.Skus);
        if (hot > 0 && (hot == Workload.Skus || random.NextDouble() < Workload.HotOrderShare))
        {
            return random.NextInt(hot);
        }

        return hot + random.NextInt(Workload.Skus - hot);
    }

    public long InitialStock(int sku) => sku < Workload.HotSkus ? Workload.HotStock : Workload.Stock;

    public static string Name(string prefix, int index) => prefix + index.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The business logic of one customer on one boundary, as a pure state machine over store steps:
/// <see cref="Choose"/> a new operation, <see cref="Start"/> it, and <see cref="Continue"/> with each
/// step's outcome until it is done. The node that runs it speaks the store's protocol.
/// </summary>
internal abstract class CustomerProgram(RunShared shared)
{
    protected RunShared Shared { get; } = shared;

    /// <summary>Mean simulated time between this customer's operations; infinite when its share of the mix is 0.</summary>
    public abstract double MeanThinkMs { get; }

    public abstract PlatformOp Choose(SeededRandom random);

    public abstract Decision Start(PlatformOp op);

    public abstract Decision Continue(PlatformOp op, StepOutcome outcome);

    protected double ThinkFor(double share) => share > 0 ? Shared.Workload.ThinkTimeMs / share : double.PositiveInfinity;
}

/// <summary>
/// Read-modify-write of a counted value: read, then write count + delta — blindly (last write wins)
/// or as a compare-and-set on the value read, retried on a failed compare. Inventory, the ledger
/// and LWW counters all have this shape.
/// </summary>
internal abstract class ReadModifyWriteProgram(RunShared shared, bool conditional, int comparesMax) : CustomerProgram(shared)
{
    bool _writing;
    int _compares;
    long? _parent;
    long _written;

    /// <summary>The new count, or null to stop without writing (sold out).</summary>
    protected abstract long? NextCount(PlatformOp op, long current);

    protected abstract long InitialCount(PlatformOp op);

    public override Decision Start(PlatformOp op)
    {
        _writing = false;
        _compares = 0;
        return Decision.Do(new KvStep(StepKind.Read, op.Key));
    }

    public override Decision Continue(PlatformOp op, StepOutcome outcome)
    {
        if (!_writing)
        {
            if (outcome.Status != StepStatus.Ok)
            {
                return Decision.Unsuccessful(outcome);
            }

            long current = CountedValue.CountOf(outcome.Value, InitialCount(op));
            if (NextCount(op, current) is not { } next)
            {
                return Decision.Done(CompletionType.Ok, new PlatformOpResult(Returned: outcome.Value, SoldOut: true));
            }

            _writing = true;
            _parent = outcome.Value;
            _written = CountedValue.Encode(next, Shared.NextTag());
            return Decision.Do(conditional
                ? new KvStep(StepKind.CompareAndSet, op.Key, _written, _parent)
                : new KvStep(StepKind.Write, op.Key, _written));
        }

        switch (outcome.Status)
        {
            case StepStatus.Ok:
                return Decision.Done(CompletionType.Ok, new PlatformOpResult(Parent: _parent, Written: _written));
            case StepStatus.CompareFailed when ++_compares < comparesMax:
                _writing = false;
                return Decision.Do(new KvStep(StepKind.Read, op.Key));
            case StepStatus.CompareFailed:
                return Decision.Done(CompletionType.Fail);
            case StepStatus.Timeout:
                // Unknown: record what it would have written, so a later state built on it is explained.
                return Decision.Done(CompletionType.Info, new PlatformOpResult(Parent: _parent, Written: _written));
            default:
                return Decision.Unsuccessful(outcome);
        }
    }
}

/// <summary>Inventory: take one unit of a SKU unless none is left.</summary>
internal sealed class ReserveProgram(RunShared shared, bool conditional)
    : ReadModifyWriteProgram(shared, conditional, comparesMax: 5)
{
    public override double MeanThinkMs => ThinkFor(Shared.Workload.OrderShare);

    public override PlatformOp Choose(SeededRandom random) => new(PlatformOpKind.Reserve, RunShared.Name("stock/sku", Shared.Sku(random)));

    protected override long InitialCount(PlatformOp op) => Shared.InitialStock(SkuOf(op.Key));

    protected override long? NextCount(PlatformOp op, long current) => current > 0 ? current - 1 : null;

    internal static int SkuOf(string key) => int.Parse(key.AsSpan(key.LastIndexOf("sku", StringComparison.Ordinal) + 3), CultureInfo.InvariantCulture);
}

/// <summary>Ledger: credit a merchant account with a payment of 1–5,000 minor units.</summary>
internal sealed class PayProgram(RunShared shared, bool conditional)
    : ReadModifyWriteProgram(shared, conditional, comparesMax: 8)
{
    long _amount;

    public override double MeanThinkMs => ThinkFor(Shared.Workload.OrderShare);

    public override PlatformOp Choose(SeededRandom random)
    {
        _amount = 1 + random.NextInt(5_000);
        return new PlatformOp(PlatformOpKind.Pay, RunShared.Name("balance/m", random.NextInt(RunShared.MerchantAccounts)));
    }

    protected override long InitialCount(PlatformOp op) => 0;

    protected override long? NextCount(PlatformOp op, long current) => current + _amount;
}

/// <summary>A counter bumped by read-modify-write (LWW) or by a CRDT increment.</summary>
internal sealed class CounterProgram(RunShared shared, bool crdt) : ReadModifyWriteProgram(shared, conditional: false, comparesMax: 1)
{
    public override double MeanThinkMs => ThinkFor(Shared.Workload.LikeShare + Shared.Workload.OrderShare);

    public override PlatformOp Choose(SeededRandom random)
    {
        int sku = Shared.Sku(random);
        double share = Shared.Workload.LikeShare + Shared.Workload.OrderShare;
        if (share > 0 && random.NextDouble() < Shared.Workload.OrderShare / share)
        {
            // The reservation itself lives in the inventory (the source of truth); the cache is derived.
            string skuName = RunShared.Name("sku", sku);
            Shared.ReservationsBySku[skuName] = Shared.ReservationsBySku.GetValueOrDefault(skuName) + 1;
            return new PlatformOp(PlatformOpKind.CacheReservation, "rescache/" + skuName);
        }

        return new PlatformOp(PlatformOpKind.Like, RunShared.Name("likes/sku", sku));
    }

    public override Decision Start(PlatformOp op) =>
        crdt ? Decision.Do(new KvStep(StepKind.Increment, op.Key, 1)) : base.Start(op);

    public override Decision Continue(PlatformOp op, StepOutcome outcome)
    {
        if (!crdt)
        {
            return base.Continue(op, outcome);
        }

        return outcome.Status == StepStatus.Ok ? Decision.Done(CompletionType.Ok) : Decision.Unsuccessful(outcome);
    }

    protected override long InitialCount(PlatformOp op) => 0;

    protected override long? NextCount(PlatformOp op, long current) => current + 1;
}

/// <summary>
/// Orders: place an order (write a new unique value to the customer's own key), then read the
/// orders back. Whether the read can miss the order depends on where it is served: any replica
/// (the quorum store at R) or a follower that waits for the customer's session token (Raft).
/// </summary>
internal sealed class OrdersProgram(RunShared shared, string key) : CustomerProgram(shared)
{
    bool _placeNext = true;

    public override double MeanThinkMs => ThinkFor(Shared.Workload.OrderShare) / 2;

    public override PlatformOp Choose(SeededRandom random)
    {
        bool place = _placeNext;
        _placeNext = !_placeNext;
        return place ? new PlatformOp(PlatformOpKind.PlaceOrder, key, Shared.NextTag()) : new PlatformOp(PlatformOpKind.ReadOrders, key);
    }

    public override Decision Start(PlatformOp op) => Decision.Do(op.Kind == PlatformOpKind.PlaceOrder
        ? new KvStep(StepKind.Write, key, op.Value)
        : new KvStep(StepKind.Read, key));

    public override Decision Continue(PlatformOp op, StepOutcome outcome) => outcome.Status == StepStatus.Ok
        ? Decision.Done(CompletionType.Ok, new PlatformOpResult(Returned: outcome.Value))
        : Decision.Unsuccessful(outcome);
}

/// <summary>Catalog: customers read prices; the admin (<paramref name="admin"/>) writes new ones.</summary>
internal sealed class CatalogProgram(RunShared shared, bool admin) : CustomerProgram(shared)
{
    public override double MeanThinkMs => admin
        ? Shared.Workload.PriceUpdatesPerSecond > 0 ? 1_000 / Shared.Workload.PriceUpdatesPerSecond : double.PositiveInfinity
        : ThinkFor(Shared.Workload.BrowseShare);

    public override PlatformOp Choose(SeededRandom random)
    {
        string key = RunShared.Name("price/sku", Shared.Sku(random));
        return admin ? new PlatformOp(PlatformOpKind.UpdatePrice, key, Shared.NextTag()) : new PlatformOp(PlatformOpKind.Browse, key);
    }

    public override Decision Start(PlatformOp op) => Decision.Do(admin
        ? new KvStep(StepKind.Write, op.Key, op.Value)
        : new KvStep(StepKind.Read, op.Key));

    public override Decision Continue(PlatformOp op, StepOutcome outcome) => outcome.Status == StepStatus.Ok
        ? Decision.Done(CompletionType.Ok, new PlatformOpResult(Returned: outcome.Value))
        : Decision.Unsuccessful(outcome);
}
