using Concord.Experiments.Commerce;
using Concord.Lab.Scenarios;

namespace Concord.Lab.Tests.Scenarios;

public sealed class ScenarioCatalogTests
{
    public static TheoryData<string> Names => [.. ScenarioCatalog.Names];

    [Fact]
    public void The_catalog_holds_the_five_scenarios_of_the_lab()
    {
        Assert.Equal(["dual-write-vs-outbox", "exercise", "failover", "lww-vs-crdt", "quorum-sweep"], ScenarioCatalog.Names);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_built_in_scenario_loads_and_is_named_after_its_file(string name)
    {
        var scenario = ScenarioCatalog.Load(name);

        Assert.Equal(name, scenario.Name);
        Assert.NotEmpty(scenario.Description);
        Assert.All(scenario.Variants, v => Assert.NotEmpty(v.Description));
    }

    /// <summary>The lead must run exercise x 5 seeds x 2 variants in under a minute: keep runs short.</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Built_in_scenarios_stay_small_enough_to_run_in_seconds(string name)
    {
        var scenario = ScenarioCatalog.Load(name);

        Assert.InRange(scenario.Workload.DurationMs, 1_000, 4_000);
        Assert.All(scenario.Topology.Regions, r => Assert.InRange(r.Customers, 1, 4));
        Assert.InRange(scenario.Seeds.Count, 1, 5);
    }

    [Fact]
    public void Exercise_is_the_two_region_platform_before_and_after_the_consistency_map()
    {
        var exercise = ScenarioCatalog.Load("exercise");

        Assert.Equal([new RegionSpecification("eu", 3, 4), new RegionSpecification("us", 3, 4)], exercise.Topology.Regions);
        Assert.Equal(40, Assert.Single(exercise.Topology.Links).LatencyMs);
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], exercise.Seeds);
        Assert.Equal(Enum.GetValues<Boundary>(), exercise.Boundaries);
        Assert.Equal([FaultKind.Partition, FaultKind.LeaderFailover, FaultKind.ClockSkew], exercise.Faults.Select(f => f.Kind));
        Assert.True(exercise.Workload.HotSkus > 0 && exercise.Workload.HotStock <= 20, "hot SKUs with small stock");

        var before = exercise.Variants.Single(v => v.Name == "before").Consistency;
        Assert.Equal(new ConsistencyMapping(), before);
        Assert.Equal((3, 1, 1), (before.N, before.R, before.W));

        var after = exercise.Variants.Single(v => v.Name == "after").Consistency;
        Assert.Equal(
            new ConsistencyMapping
            {
                Ledger = LedgerMode.Raft, Inventory = InventoryMode.RaftCas, Orders = OrdersMode.SessionToken,
                Catalog = CatalogMode.BoundedStaleness, Likes = CounterMode.Crdt, Workflow = WorkflowMode.Outbox,
                StalenessBoundMs = 100,
            },
            after);

        Assert.Equal(
            [
                new Slo("oversells", SloComparison.AtMost, 0),
                new Slo("lost_acknowledged_payments", SloComparison.AtMost, 0),
                new Slo("read_your_writes_misses", SloComparison.AtMost, 0) { Variant = "after" },
                new Slo("p95_write_ms.payments", SloComparison.AtMost, 250),
                new Slo("p95_write_ms.inventory", SloComparison.AtMost, 250),
                new Slo("stale_read_rate", SloComparison.AtMost, 0.05) { Variant = "after" },
            ],
            exercise.Slos);
    }

    [Theory]
    [InlineData("quorum-sweep", new[] { Boundary.Catalog })]
    [InlineData("lww-vs-crdt", new[] { Boundary.Likes })]
    [InlineData("dual-write-vs-outbox", new[] { Boundary.Workflow })]
    [InlineData("failover", new[] { Boundary.Orders })]
    public void Focused_scenarios_run_only_their_boundary(string name, Boundary[] boundaries)
    {
        Assert.Equal(boundaries, ScenarioCatalog.Load(name).Boundaries);
    }

    [Fact]
    public void Focused_scenarios_compare_the_modes_they_are_named_after()
    {
        Assert.Equal([3, 5], ScenarioCatalog.Load("quorum-sweep").Sweep!.ReplicationFactors);
        Assert.Equal([CounterMode.Lww, CounterMode.Crdt], ScenarioCatalog.Load("lww-vs-crdt").Variants.Select(v => v.Consistency.Likes));
        Assert.Equal([WorkflowMode.DualWrite, WorkflowMode.Outbox], ScenarioCatalog.Load("dual-write-vs-outbox").Variants.Select(v => v.Consistency.Workflow));
        Assert.True(ScenarioCatalog.Load("dual-write-vs-outbox").Faults.Count(f => f.Kind == FaultKind.Crash) >= 2);
        var failover = ScenarioCatalog.Load("failover");
        Assert.Equal([OrdersMode.AnyReplica, OrdersMode.SessionToken], failover.Variants.Select(v => v.Consistency.Orders));
        Assert.Equal([FaultKind.LeaderFailover, FaultKind.Partition], failover.Faults.Select(f => f.Kind));
    }

    [Fact]
    public void An_unknown_name_lists_the_built_in_scenarios_and_suggests_the_closest()
    {
        var failure = Assert.Throws<ScenarioException>(() => ScenarioCatalog.Load("exercize"));

        Assert.Contains("did you mean 'exercise'?", failure.Message, StringComparison.Ordinal);
        Assert.Contains("dual-write-vs-outbox, exercise, failover, lww-vs-crdt, quorum-sweep", failure.Message, StringComparison.Ordinal);
    }
}
