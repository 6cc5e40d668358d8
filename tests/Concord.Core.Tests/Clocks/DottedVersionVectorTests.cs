using Concord.Core.Clocks;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Clocks;

public class DottedVersionVectorTests
{
    private const int Replicas = 3;

    /// <summary>
    /// A Dynamo-style history of one key on three replica servers: writes from clients that read
    /// from some replica (possibly long ago, possibly never) and syncs between replicas.
    /// </summary>
    private static readonly Gen<History> Histories =
        Gen.Select(Gen.Int[0, Replicas - 1], Gen.Int[0, Replicas - 1], Gen.Int[0, 3]).Array[0, 30].Select(Run);

    [Fact]
    public void DvvSet_merge_is_a_semilattice() =>
        Laws.AssertSemilattice(Histories.Select(h => (h.States[0], h.States[1], h.States[2])), (a, b) => a.Merge(b));

    [Fact]
    public void Descends_matches_event_set_inclusion() =>
        Histories.Sample(
            history =>
            {
                foreach (var a in history.Versions)
                {
                    foreach (var b in history.Versions)
                    {
                        Assert.Equal(Events(b).IsSubsetOf(Events(a)), a.Descends(b));
                        Assert.Equal(VectorClockTests.Flip(a.Compare(b)), b.Compare(a));
                        VectorClock join = a.Merge(b);
                        Assert.All(Events(a).Concat(Events(b)), e => Assert.True(e.Counter <= join[e.Node], $"{join} misses {e}"));
                    }
                }
            },
            iter: Laws.Iterations);

    [Fact]
    public void No_write_is_lost_unless_a_later_write_saw_it() =>
        Histories.Sample(
            history =>
            {
                DvvSet<int> synced = history.States.Aggregate(DvvSet<int>.Empty, (a, b) => a.Merge(b));
                var present = synced.Values.ToHashSet();
                foreach (var (version, value) in history.Writes)
                {
                    bool overwritten = history.Contexts.Any(version.IsCoveredBy);
                    Assert.Equal(!overwritten, present.Contains(value));
                }

                Assert.All(synced.Siblings, x => Assert.All(synced.Siblings, y => Assert.True(x.Equals(y) || x.Version.Compare(y.Version) == CausalOrder.Concurrent)));
            },
            iter: Laws.Iterations);

    [Fact]
    public void Concurrent_writes_become_siblings_and_a_write_that_saw_them_replaces_both()
    {
        NodeId a = new(0), b = new(1);
        DvvSet<string> store = DvvSet<string>.Empty.Put(a, VectorClock.Empty, "x");
        VectorClock seen = store.Context();
        store = store.Put(a, seen, "y").Put(b, seen, "z"); // two clients, both had read "x"
        Assert.Equal(["y", "z"], store.Values.Order());
        Assert.Equal("[(n0:2, {n0:1})=y, (n1:1, {n0:1})=z]", store.ToString());

        store = store.Put(a, store.Context(), "merged");
        Assert.Equal(["merged"], store.Values);
    }

    [Fact]
    public void A_gap_records_concurrency_with_the_missing_event()
    {
        NodeId a = new(0);
        var five = new DottedVersionVector(new Dot(a, 5), VectorClock.From([KeyValuePair.Create(a, 3UL)]));
        var four = new DottedVersionVector(new Dot(a, 4), VectorClock.From([KeyValuePair.Create(a, 3UL)]));
        Assert.Equal(CausalOrder.Concurrent, five.Compare(four));
        Assert.False(five.Contains(new Dot(a, 4)));
        Assert.Equal("{n0:5}", five.ToVectorClock().ToString());
    }

    [Fact]
    public void Invalid_versions_are_rejected()
    {
        NodeId a = new(0);
        VectorClock past = VectorClock.From([KeyValuePair.Create(a, 3UL)]);
        Assert.Throws<ArgumentException>(() => new DottedVersionVector(new Dot(a, 3), past));
        Assert.Throws<ArgumentException>(() => new DottedVersionVector(new Dot(a, 9), past.Increment(new NodeId(1)).Increment(new NodeId(2)).Prune(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dot(a, 0));
        Assert.Throws<ArgumentException>(() => DvvSet<int>.Empty.Put(a, past.Increment(new NodeId(1)).Prune(1), 1));
    }

    private static HashSet<Dot> Events(DottedVersionVector version)
    {
        var events = new HashSet<Dot> { version.Dot };
        foreach (var (node, counter) in version.Past.Entries)
        {
            for (ulong c = 1; c <= counter; c++)
            {
                events.Add(new Dot(node, c));
            }
        }

        return events;
    }

    private static History Run((int Replica, int Source, int Kind)[] steps)
    {
        var states = Enumerable.Repeat(DvvSet<int>.Empty, Replicas).ToArray();
        var reads = new List<VectorClock> { VectorClock.Empty };
        var contexts = new List<VectorClock>();
        var writes = new List<(DottedVersionVector Version, int Value)>();
        for (int i = 0; i < steps.Length; i++)
        {
            var (replica, source, kind) = steps[i];
            if (kind == 0)
            {
                states[replica] = states[replica].Merge(states[source]);
                continue;
            }

            VectorClock context = kind switch
            {
                1 => states[source].Context(),      // read, then write
                2 => VectorClock.Empty,             // blind write
                _ => reads[source % reads.Count],   // a client writing from an old read
            };
            reads.Add(states[source].Context());
            contexts.Add(context);
            states[replica] = states[replica].Put(new NodeId((uint)replica), context, i);
            writes.Add((states[replica].Siblings.Single(s => s.Value == i).Version, i));
        }

        return new History(states, writes, contexts);
    }

    private sealed record History(DvvSet<int>[] States, List<(DottedVersionVector Version, int Value)> Writes, List<VectorClock> Contexts)
    {
        public IEnumerable<DottedVersionVector> Versions => Writes.Select(w => w.Version);

        public override string ToString() => string.Join(" | ", States.Select(s => s.ToString()));
    }
}
