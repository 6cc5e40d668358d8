using Concord.Experiments.Commerce;

namespace Concord.Experiments.Tests.Commerce.Workflow;

/// <summary>Scenarios for the workflow tests, built in code (the YAML loader lives in Concord.Lab).</summary>
internal static class WorkflowScenarios
{
    public static readonly ConsistencyMapping DualWrite = new() { Workflow = WorkflowMode.DualWrite };

    public static readonly ConsistencyMapping Outbox = new() { Workflow = WorkflowMode.Outbox };

    /// <summary>
    /// The exercise's shape: eu and us, three servers and four customers each, 40 ms apart, and
    /// one of each fault kind during the workload: a partition between the regions, a crash of
    /// Inventory's server, a failover of Orders, and a skewed, drifting clock on Orders.
    /// </summary>
    public static PlatformScenario TwoRegions(long durationMs = 4_000, int customersPerRegion = 4, IReadOnlyList<PlatformFault>? faults = null) => new()
    {
        Name = "workflow-test",
        Topology = new PlatformTopology(
            [new RegionSpecification("eu", 3, customersPerRegion), new RegionSpecification("us", 3, customersPerRegion)],
            [new LinkSpecification("eu", "us", 40)]),
        Workload = new PlatformWorkload { DurationMs = durationMs },
        Faults = faults ??
        [
            new PlatformFault(FaultKind.Partition, durationMs / 4, 400) { Region = "eu", OtherRegion = "us" },
            new PlatformFault(FaultKind.Crash, durationMs / 2, 300) { Node = "us-1" },
            new PlatformFault(FaultKind.LeaderFailover, durationMs * 2 / 3, 200),
            new PlatformFault(FaultKind.ClockSkew, 0, durationMs) { Node = "eu-1", SkewMs = 30, DriftPpm = 200 },
        ],
        Boundaries = [Boundary.Workflow],
        Variants = [new PlatformVariant("before", DualWrite), new PlatformVariant("after", Outbox)],
        Seeds = [1, 2, 3, 4, 5],
    };
}
