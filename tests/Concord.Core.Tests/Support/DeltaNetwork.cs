using Concord.Core.Crdts;
using Concord.Core.Randomness;
using CsCheck;

namespace Concord.Core.Tests.Support;

/// <summary>
/// Replicas of a delta CRDT joined by a hostile network: deltas arrive in random order, some are
/// duplicated, some are batched into delta groups, some are lost and retransmitted only at the end.
/// All choices come from one <see cref="SeededRandom"/>, so a failing seed replays exactly.
/// </summary>
public static class DeltaNetwork
{
    public const int Replicas = 3;

    /// <summary>A schedule: the network seed and the operations, each at a replica.</summary>
    public static Gen<(ulong Seed, (int Replica, TOp Op)[] Ops)> Schedules<TOp>(Gen<TOp> operation) =>
        Gen.Select(Gen.ULong, Gen.Select(Gen.Int[0, Replicas - 1], operation).Array[0, 40]);

    /// <summary>
    /// Runs the schedule and asserts that every replica ends equal, and equal to the join of all
    /// deltas (delta groups are states). Returns the converged state.
    /// </summary>
    public static T RunToConvergence<T, TOp>(
        ulong seed,
        IReadOnlyList<(int Replica, TOp Op)> ops,
        Func<T, NodeId, TOp, DeltaMutation<T>> apply)
        where T : class, IStateCrdt<T>
    {
        var random = new SeededRandom(seed);
        var states = Enumerable.Repeat(T.Empty, Replicas).ToArray();
        var inFlight = new List<(int To, T Delta)>();
        var lost = new List<(int To, T Delta)>();
        T allDeltas = T.Empty;

        foreach (var (replica, op) in ops)
        {
            var (state, delta) = apply(states[replica], new NodeId((uint)replica), op);
            if (!state.Equals(states[replica].Merge(delta)))
            {
                throw new InvalidOperationException($"mutator broke State == previous.Merge(Delta) at replica {replica}");
            }

            states[replica] = state;
            allDeltas = allDeltas.Merge(delta);
            for (int to = 0; to < Replicas; to++)
            {
                if (to != replica)
                {
                    inFlight.Add((to, delta));
                }
            }

            for (int step = random.NextInt(4); step > 0 && inFlight.Count > 0; step--)
            {
                int index = random.NextInt(inFlight.Count);
                var message = inFlight[index];
                double fate = random.NextDouble();
                if (fate < 0.15)
                {
                    inFlight.RemoveAt(index);
                    lost.Add(message);
                }
                else if (fate < 0.30)
                {
                    states[message.To] = states[message.To].Merge(message.Delta); // delivered, and stays in flight as a duplicate
                }
                else if (fate < 0.40)
                {
                    int other = inFlight.FindIndex(m => m.To == message.To && !ReferenceEquals(m.Delta, message.Delta));
                    if (other >= 0)
                    {
                        inFlight[index] = (message.To, message.Delta.Merge(inFlight[other].Delta)); // a delta group
                        inFlight.RemoveAt(other);
                    }
                }
                else
                {
                    inFlight.RemoveAt(index);
                    states[message.To] = states[message.To].Merge(message.Delta);
                }
            }
        }

        inFlight.AddRange(lost); // retransmission
        var remaining = inFlight.ToArray();
        random.Shuffle(remaining.AsSpan());
        foreach (var (to, delta) in remaining)
        {
            states[to] = states[to].Merge(delta);
        }

        for (int i = 0; i < Replicas; i++)
        {
            if (!states[i].Equals(states[0]))
            {
                throw new InvalidOperationException($"replicas diverged (seed={seed}): replica 0 = {states[0]}, replica {i} = {states[i]}");
            }
        }

        if (!states[0].Equals(allDeltas))
        {
            throw new InvalidOperationException($"converged state {states[0]} differs from the join of all deltas {allDeltas} (seed={seed})");
        }

        return states[0];
    }

    /// <summary>
    /// Reachable replica states: a random interleaving of operations and full-state merges
    /// between replicas, for the lattice laws.
    /// </summary>
    /// <param name="newApply">Makes the operation interpreter for one history (fresh clocks, say).</param>
    public static Gen<T[]> ReplicaStates<T, TOp>(Gen<TOp> operation, Func<Func<T, NodeId, TOp, DeltaMutation<T>>> newApply)
        where T : class, IStateCrdt<T> =>
        Gen.Select(Gen.Int[0, Replicas - 1], Gen.Int[0, Replicas - 1], Gen.Int[0, 3], operation)
            .Array[0, 30]
            .Select(steps =>
            {
                var states = Enumerable.Repeat(T.Empty, Replicas).ToArray();
                var apply = newApply();
                foreach (var (replica, source, kind, op) in steps)
                {
                    states[replica] = kind == 0
                        ? states[replica].Merge(states[source])
                        : apply(states[replica], new NodeId((uint)replica), op).State;
                }

                return states;
            });
}
