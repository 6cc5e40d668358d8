using Concord.Experiments.Commerce;
using Concord.Experiments.Commerce.Workflow;
using Concord.Simulation.Faults;

namespace Concord.Experiments.Tests.Commerce.Workflow;

public sealed class WorkflowPlatformTests
{
    [Fact]
    public void Services_spread_over_the_regions_and_a_failover_crashes_the_saga_host()
    {
        WorkflowPlatform platform = WorkflowPlatform.From(WorkflowScenarios.TwoRegions());
        Assert.Equal("s0@eu", platform.Topology[platform.Services.Orders].Name);
        Assert.Equal("s3@us", platform.Topology[platform.Services.Inventory].Name);
        Assert.Equal("s1@eu", platform.Topology[platform.Services.Payments].Name);
        Assert.Contains(platform.Faults, f => f.Fault == new CrashFault(platform.Services.Orders) && f.StartUs == 2_666_000 && f.EndUs == 2_866_000);
        Assert.Contains(platform.Faults, f => f.Fault is CrashFault crash && platform.Topology[crash.Node].Name == "s3@us");
        Assert.Contains(platform.Faults, f => f.Fault is PartitionFault);
        Assert.Contains(platform.Faults, f => f.Fault is ClockFault { OffsetUs: 30_000, DriftPpm: 200 });
    }

    [Fact]
    public void One_region_with_one_server_hosts_every_service()
    {
        PlatformScenario scenario = WorkflowScenarios.TwoRegions(faults: []) with
        {
            Topology = new PlatformTopology([new RegionSpecification("solo", 1, 2)], []),
        };
        WorkflowPlatform platform = WorkflowPlatform.From(scenario);
        Assert.Equal(platform.Services.Orders, platform.Services.Inventory);
        Assert.Equal(platform.Services.Orders, platform.Services.Payments);
        WorkflowOutcome outcome = WorkflowRun.Run(scenario with { Workload = scenario.Workload with { DurationMs = 500 } }, WorkflowScenarios.Outbox, 1, WorkflowSettings.Default);
        Assert.True(outcome.Metrics is { LostEvents: 0, GhostEvents: 0, DuplicateEffects: 0, SagasUnfinished: 0 }, outcome.ToString());
        Assert.True(outcome.Metrics.SagasConfirmed > 0, outcome.ToString());
    }
}
