using System.Globalization;
using Concord.Core;

namespace Concord.Simulation;

/// <summary>What a simulated endpoint is for. Random faults only ever hit servers.</summary>
public enum NodeRole
{
    /// <summary>A replica or service node: the system under test.</summary>
    Server,

    /// <summary>A workload driver that issues requests and records a history.</summary>
    Client,
}

/// <summary>One region of a topology and how many servers and clients live in it.</summary>
public sealed record RegionSpec(string Name, int Servers, int Clients = 0);

/// <summary>
/// One simulated endpoint. <see cref="Id"/> is dense: node <c>n3</c> is <c>Topology.Nodes[3]</c>.
/// <see cref="Index"/> counts within the role (server 0..S-1, client 0..C-1).
/// </summary>
public sealed record NodeInfo(NodeId Id, NodeRole Role, int Index, int RegionIndex, string Region)
{
    /// <summary>For example <c>s4@us</c> or <c>c0@eu</c>.</summary>
    public string Name => (Role == NodeRole.Server ? "s" : "c") + Index.ToString(CultureInfo.InvariantCulture) + "@" + Region;
}

/// <summary>
/// Regions and the nodes in them. Immutable and valid by construction. Servers get the lowest ids
/// (region by region), clients follow, so adding clients never renumbers servers.
/// </summary>
public sealed class Topology
{
    /// <summary>Bounds the node count: links are stored as dense N×N tables.</summary>
    public const int NodesMax = 1024;

    private readonly NodeId[][] _serversByRegion;
    private readonly NodeId[][] _clientsByRegion;

    private Topology(IReadOnlyList<string> regions, IReadOnlyList<NodeInfo> nodes)
    {
        Regions = regions;
        Nodes = nodes;
        Servers = [.. nodes.Where(n => n.Role == NodeRole.Server).Select(n => n.Id)];
        Clients = [.. nodes.Where(n => n.Role == NodeRole.Client).Select(n => n.Id)];
        _serversByRegion = [.. regions.Select((_, r) => nodes.Where(n => n.RegionIndex == r && n.Role == NodeRole.Server).Select(n => n.Id).ToArray())];
        _clientsByRegion = [.. regions.Select((_, r) => nodes.Where(n => n.RegionIndex == r && n.Role == NodeRole.Client).Select(n => n.Id).ToArray())];
    }

    /// <summary>Two regions, <c>eu</c> and <c>us</c>, of three servers each, and no clients.</summary>
    public static Topology Default { get; } = Create([new RegionSpec("eu", 3), new RegionSpec("us", 3)]);

    public IReadOnlyList<string> Regions { get; }

    /// <summary>Every node; <c>Nodes[i].Id.Value == i</c>.</summary>
    public IReadOnlyList<NodeInfo> Nodes { get; }

    public IReadOnlyList<NodeId> Servers { get; }

    public IReadOnlyList<NodeId> Clients { get; }

    public int NodeCount => Nodes.Count;

    /// <summary>Regions named <c>r0</c>, <c>r1</c>… (or <c>eu</c>, <c>us</c> for two) with the same shape each.</summary>
    public static Topology Create(int regions, int serversPerRegion, int clientsPerRegion = 0)
    {
        if (regions < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(regions), regions, "A topology needs at least one region.");
        }

        string[] names = regions == 2
            ? ["eu", "us"]
            : [.. Enumerable.Range(0, regions).Select(r => "r" + r.ToString(CultureInfo.InvariantCulture))];
        return Create([.. names.Select(name => new RegionSpec(name, serversPerRegion, clientsPerRegion))]);
    }

    public static Topology Create(IReadOnlyList<RegionSpec> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        if (regions.Count == 0)
        {
            throw new ArgumentException("A topology needs at least one region.", nameof(regions));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (RegionSpec region in regions)
        {
            if (string.IsNullOrWhiteSpace(region.Name))
            {
                throw new ArgumentException("Region names must be non-empty.", nameof(regions));
            }

            if (!seen.Add(region.Name))
            {
                throw new ArgumentException($"Region '{region.Name}' appears twice.", nameof(regions));
            }

            if (region.Servers < 0 || region.Clients < 0)
            {
                throw new ArgumentException($"Region '{region.Name}': server and client counts must be ≥ 0.", nameof(regions));
            }
        }

        long total = regions.Sum(r => (long)r.Servers + r.Clients);
        if (total is < 1 or > NodesMax)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A topology needs between 1 and {NodesMax} nodes; got {total}."),
                nameof(regions));
        }

        var nodes = new List<NodeInfo>((int)total);
        int serverIndex = 0;
        for (int r = 0; r < regions.Count; r++)
        {
            for (int i = 0; i < regions[r].Servers; i++)
            {
                nodes.Add(new NodeInfo(new NodeId((uint)nodes.Count), NodeRole.Server, serverIndex++, r, regions[r].Name));
            }
        }

        int clientIndex = 0;
        for (int r = 0; r < regions.Count; r++)
        {
            for (int i = 0; i < regions[r].Clients; i++)
            {
                nodes.Add(new NodeInfo(new NodeId((uint)nodes.Count), NodeRole.Client, clientIndex++, r, regions[r].Name));
            }
        }

        return new Topology([.. regions.Select(r => r.Name)], nodes);
    }

    public bool Contains(NodeId node) => node.Value < (uint)Nodes.Count;

    public NodeInfo this[NodeId node] => Contains(node)
        ? Nodes[(int)node.Value]
        : throw new ArgumentOutOfRangeException(nameof(node), node, $"No node {node} in a topology of {Nodes.Count} nodes.");

    /// <summary>The index of <paramref name="region"/> in <see cref="Regions"/>; throws when unknown.</summary>
    public int RegionIndex(string region)
    {
        for (int r = 0; r < Regions.Count; r++)
        {
            if (string.Equals(Regions[r], region, StringComparison.Ordinal))
            {
                return r;
            }
        }

        throw new ArgumentException($"Unknown region '{region}'; the topology has {string.Join(", ", Regions)}.", nameof(region));
    }

    public IReadOnlyList<NodeId> ServersIn(string region) => _serversByRegion[RegionIndex(region)];

    public IReadOnlyList<NodeId> ClientsIn(string region) => _clientsByRegion[RegionIndex(region)];

    /// <summary>Servers and clients of <paramref name="region"/>.</summary>
    public IReadOnlyList<NodeId> NodesIn(string region) => [.. ServersIn(region), .. ClientsIn(region)];

    public override string ToString() => string.Join(
        ", ",
        Regions.Select((name, r) => string.Create(CultureInfo.InvariantCulture, $"{name}: {_serversByRegion[r].Length} servers + {_clientsByRegion[r].Length} clients")));
}
