using Concord.Core;
using Concord.Simulation;
using Concord.Simulation.Faults;
using Concord.Simulation.Network;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>Which simulated server hosts each service of the workflow. A server may host several when the topology is small.</summary>
internal sealed record ServiceDirectory(NodeId Orders, NodeId Inventory, NodeId Payments)
{
    public bool Hosts(NodeId node) => node == Orders || node == Inventory || node == Payments;
}

/// <summary>
/// The scenario on the simulator through the one shared mapping (<see cref="PlatformSimulation"/>),
/// plus what only the workflow knows: where its services run, and that its leader, the node that
/// hosts the saga runtime, is Orders' server.
/// </summary>
internal sealed record WorkflowPlatform(Topology Topology, NetworkConfig Network, IReadOnlyList<ScheduledFault> Faults, ServiceDirectory Services)
{
    public static WorkflowPlatform From(PlatformScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        Topology topology = PlatformSimulation.Topology(scenario);
        if (topology.Servers.Count == 0 || topology.Clients.Count == 0)
        {
            throw new ArgumentException($"Scenario '{scenario.Name}': the workflow needs at least one server and one customer.", nameof(scenario));
        }

        ServiceDirectory services = Place(topology);

        // The leader is known up front, so a failover is a plain scheduled crash of Orders' server.
        IEnumerable<ScheduledFault> failovers = scenario.Faults
            .Where(f => f.Kind == FaultKind.LeaderFailover)
            .Select(f => new ScheduledFault(
                PlatformSimulation.Us(f.AtMs),
                f.DurationMs > 0 ? PlatformSimulation.Us(f.AtMs + f.DurationMs) : ScheduledFault.Forever,
                new CrashFault(services.Orders)));
        return new WorkflowPlatform(
            topology,
            PlatformSimulation.Network(scenario),
            [.. PlatformSimulation.StaticFaults(scenario, topology), .. failovers],
            services);
    }

    /// <summary>
    /// Orders (and its saga runtime) on region 0's first server; Inventory in the next region and
    /// Payments in the one after (wrapping), each on that region's next unused server, so that saga
    /// commands cross regions as they would in a two-region deployment: eu-1, us-1, eu-2.
    /// </summary>
    static ServiceDirectory Place(Topology topology)
    {
        var used = new Dictionary<int, int>();
        NodeId Next(int region)
        {
            // A region without servers hands its service to the next region that has one.
            for (int offset = 0; offset < topology.Regions.Count; offset++)
            {
                int r = (region + offset) % topology.Regions.Count;
                IReadOnlyList<NodeId> servers = topology.ServersIn(topology.Regions[r]);
                if (servers.Count > 0)
                {
                    int k = used.GetValueOrDefault(r);
                    used[r] = k + 1;
                    return servers[k % servers.Count];
                }
            }

            throw new InvariantViolationException("a topology with servers has a region with servers");
        }

        NodeId orders = Next(0);
        NodeId inventory = Next(1 % topology.Regions.Count);
        NodeId payments = Next(2 % topology.Regions.Count);
        return new ServiceDirectory(orders, inventory, payments);
    }
}
