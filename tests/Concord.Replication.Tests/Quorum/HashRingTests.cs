using Concord.Core;
using Concord.Replication.Quorum;

namespace Concord.Replication.Tests.Quorum;

public sealed class HashRingTests
{
    private static readonly string[] Keys = [.. Enumerable.Range(0, 2_000).Select(i => $"key-{i}")];

    private static HashRing Ring(int regions, int perRegion, int n) => new(
        [.. Enumerable.Range(0, regions * perRegion).Select(i => new RingMember(new NodeId((uint)i), $"r{i / perRegion}"))], n);

    [Theory]
    [InlineData(2, 3, 3)]
    [InlineData(2, 3, 5)]
    [InlineData(3, 2, 3)]
    [InlineData(1, 5, 3)]
    public void Every_key_gets_N_distinct_replicas_spread_over_regions(int regions, int perRegion, int n)
    {
        HashRing ring = Ring(regions, perRegion, n);
        int perRegionMax = (n + regions - 1) / regions;
        foreach (string key in Keys)
        {
            Placement placement = ring.PlacementOf(key);
            Assert.Equal(n, placement.Replicas.Distinct().Count());
            Assert.Equal(regions * perRegion - n, placement.Fallbacks.Count);
            Assert.Empty(placement.Replicas.Intersect(placement.Fallbacks));
            var byRegion = placement.Replicas.GroupBy(ring.RegionOf).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(Math.Min(n, regions), byRegion.Count);
            Assert.All(byRegion.Values, count => Assert.True(count <= perRegionMax));
        }
    }

    [Fact]
    public void Region_short_of_nodes_is_filled_from_other_regions()
    {
        // One node in r1: N = 4 cannot take 2 from each region, so r0 gives 3.
        HashRing ring = new([new(new NodeId(0), "r0"), new(new NodeId(1), "r0"), new(new NodeId(2), "r0"), new(new NodeId(3), "r1")], 4);
        Assert.All(Keys, key => Assert.Equal(4, ring.ReplicasOf(key).Distinct().Count()));
    }

    [Fact]
    public void Adding_a_node_moves_few_keys()
    {
        HashRing before = Ring(2, 3, 3);
        HashRing after = before.With(new RingMember(new NodeId(6), "r0"));
        int primaryKept = Keys.Count(k => before.ReplicasOf(k)[0] == after.ReplicasOf(k)[0]);
        int listKept = Keys.Count(k => before.ReplicasOf(k).Order().SequenceEqual(after.ReplicasOf(k).Order()));
        // With 7 equal members the new node should take about 1/7 of primaries; placement lists change when it lands among them.
        Assert.True(primaryKept > Keys.Length * 0.75, $"primary kept for {primaryKept} of {Keys.Length}");
        Assert.True(listKept > Keys.Length * 0.45, $"replica set kept for {listKept} of {Keys.Length}");
        // Every key that moved moved onto the new node, never between old nodes.
        foreach (string key in Keys)
        {
            var gained = after.ReplicasOf(key).Except(before.ReplicasOf(key)).ToList();
            Assert.True(gained.Count == 0 || (gained.Count == 1 && gained[0] == new NodeId(6)), key);
        }
    }

    [Fact]
    public void Placement_is_deterministic_across_instances()
    {
        HashRing a = Ring(2, 3, 3);
        HashRing b = Ring(2, 3, 3);
        Assert.All(Keys, key => Assert.Equal(a.ReplicasOf(key), b.ReplicasOf(key)));
    }

    [Fact]
    public void Bad_configuration_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Ring(2, 3, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ring(2, 3, 0));
        Assert.Throws<ArgumentException>(() => new HashRing([new(new NodeId(0), "a"), new(new NodeId(0), "b")], 1));
    }
}
