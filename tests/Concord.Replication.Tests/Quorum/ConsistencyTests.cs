using Concord.Replication.Quorum;

namespace Concord.Replication.Tests.Quorum;

public sealed class ConsistencyTests
{
    private static readonly string[] Regions3 = ["eu", "eu", "us"];

    [Theory]
    [InlineData(ConsistencyLevel.One, 1)]
    [InlineData(ConsistencyLevel.Two, 2)]
    [InlineData(ConsistencyLevel.Quorum, 2)]
    [InlineData(ConsistencyLevel.All, 3)]
    public void Totals(ConsistencyLevel level, int total)
    {
        QuorumRequirement requirement = new Consistency(level).Resolve(Regions3, "eu")!;
        Assert.Equal(total, requirement.TotalMin);
        Assert.Empty(requirement.RegionMins);
    }

    [Fact]
    public void Local_quorum_counts_only_the_coordinator_region()
    {
        QuorumRequirement eu = Consistency.LocalQuorum.Resolve(Regions3, "eu")!;
        Assert.False(eu.IsMetBy(["eu", "us"]));
        Assert.True(eu.IsMetBy(["eu", "eu"]));
        QuorumRequirement us = Consistency.LocalQuorum.Resolve(Regions3, "us")!;
        Assert.True(us.IsMetBy(["us"]));
        Assert.Null(Consistency.LocalQuorum.Resolve(["eu", "eu"], "us"));
    }

    [Fact]
    public void Each_quorum_needs_a_majority_in_every_region()
    {
        QuorumRequirement each = Consistency.EachQuorum.Resolve(["eu", "eu", "eu", "us", "us"], "eu")!;
        Assert.False(each.IsMetBy(["eu", "eu", "eu", "us"]));
        Assert.True(each.IsMetBy(["eu", "eu", "us", "us"]));
    }

    [Fact]
    public void Explicit_counts_beyond_N_are_unavailable()
    {
        Assert.Equal(3, Consistency.Of(3).Resolve(Regions3, "eu")!.TotalMin);
        Assert.Null(Consistency.Of(4).Resolve(Regions3, "eu"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Consistency.Of(0));
        Assert.Equal("LOCAL_QUORUM", Consistency.LocalQuorum.ToString());
        Assert.Equal("2", Consistency.Of(2).ToString());
    }
}
