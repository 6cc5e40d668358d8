namespace Concord.Core.Crdts;

/// <summary>
/// A state-based CRDT (Shapiro, Preguiça, Baquero and Zawirski, "Conflict-free Replicated Data
/// Types", 2011): states form a join-semilattice, so <see cref="Merge"/> is commutative,
/// associative and idempotent, and replicas that have seen the same updates are equal whatever the
/// order, duplication or batching of deliveries. Implementations are immutable with value equality.
/// </summary>
public interface IStateCrdt<TSelf> : IEquatable<TSelf>
    where TSelf : class, IStateCrdt<TSelf>
{
    /// <summary>The bottom of the lattice: merging it changes nothing.</summary>
    static abstract TSelf Empty { get; }

    /// <summary>The join (least upper bound) of both states, as a new value.</summary>
    TSelf Merge(TSelf other);
}

/// <summary>
/// The result of a delta mutator (Almeida, Shoker and Baquero, "Delta State Replicated Data
/// Types", 2018): the new local <see cref="State"/> and the small <see cref="Delta"/> that produced
/// it. The delta is itself a state: ship it instead of the full state and merge it in on arrival;
/// deltas merged with each other form a delta group that can be shipped as one.
/// <c>State == previous.Merge(Delta)</c> always holds.
/// </summary>
public readonly record struct DeltaMutation<T>(T State, T Delta)
    where T : class, IStateCrdt<T>;
