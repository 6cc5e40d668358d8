using Concord.Core;

namespace Concord.Simulation.Network;

/// <summary>A directed link profile between two regions (<c>From</c> may equal <c>To</c>).</summary>
public sealed record RegionLinkOverride(string FromRegion, string ToRegion, LinkProfile Profile);

/// <summary>A directed link profile between two nodes; wins over region-level settings.</summary>
public sealed record NodeLinkOverride(NodeId From, NodeId To, LinkProfile Profile);

/// <summary>
/// Link profiles for every directed pair of nodes, resolved most specific first: a
/// <see cref="NodeLinkOverride"/>, then a <see cref="RegionLinkOverride"/>, then
/// <see cref="IntraRegion"/> or <see cref="InterRegion"/>. A node's messages to itself skip the
/// network: delivered after 0 µs, never lost or duplicated.
/// </summary>
public sealed record NetworkConfig
{
    public static NetworkConfig Default { get; } = new();

    public LinkProfile IntraRegion { get; init; } = LinkProfile.IntraRegionDefault;

    public LinkProfile InterRegion { get; init; } = LinkProfile.InterRegionDefault;

    public IReadOnlyList<RegionLinkOverride> RegionOverrides { get; init; } = [];

    public IReadOnlyList<NodeLinkOverride> NodeOverrides { get; init; } = [];

    /// <summary>Every profile with the same change applied, e.g. <c>p => p with { Fifo = true }</c>.</summary>
    public NetworkConfig WithAllLinks(Func<LinkProfile, LinkProfile> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return this with
        {
            IntraRegion = change(IntraRegion),
            InterRegion = change(InterRegion),
            RegionOverrides = [.. RegionOverrides.Select(o => o with { Profile = change(o.Profile) })],
            NodeOverrides = [.. NodeOverrides.Select(o => o with { Profile = change(o.Profile) })],
        };
    }

    internal void Validate(Topology topology, List<string> errors)
    {
        Check(IntraRegion, "Network.IntraRegion", errors);
        Check(InterRegion, "Network.InterRegion", errors);
        if (RegionOverrides is null || NodeOverrides is null)
        {
            errors.Add("Network.RegionOverrides and Network.NodeOverrides must not be null.");
            return;
        }

        for (int i = 0; i < RegionOverrides.Count; i++)
        {
            RegionLinkOverride o = RegionOverrides[i];
            string path = $"Network.RegionOverrides[{i}]";
            if (!topology.Regions.Contains(o.FromRegion) || !topology.Regions.Contains(o.ToRegion))
            {
                errors.Add($"{path} names region '{o.FromRegion}' → '{o.ToRegion}'; the topology has {string.Join(", ", topology.Regions)}.");
            }

            Check(o.Profile, path + ".Profile", errors);
        }

        for (int i = 0; i < NodeOverrides.Count; i++)
        {
            NodeLinkOverride o = NodeOverrides[i];
            string path = $"Network.NodeOverrides[{i}]";
            if (!topology.Contains(o.From) || !topology.Contains(o.To))
            {
                errors.Add($"{path} names {o.From} → {o.To}; the topology has nodes n0..n{topology.NodeCount - 1}.");
            }

            Check(o.Profile, path + ".Profile", errors);
        }
    }

    /// <summary>The profile for every directed pair, as a dense table indexed <c>from * N + to</c>.</summary>
    internal LinkProfile[] Resolve(Topology topology)
    {
        int n = topology.NodeCount;
        var table = new LinkProfile[n * n];
        for (int from = 0; from < n; from++)
        {
            for (int to = 0; to < n; to++)
            {
                NodeInfo a = topology.Nodes[from];
                NodeInfo b = topology.Nodes[to];
                LinkProfile profile = a.RegionIndex == b.RegionIndex ? IntraRegion : InterRegion;

                // Later overrides win, so a list reads like a sequence of assignments.
                foreach (RegionLinkOverride o in RegionOverrides)
                {
                    if (o.FromRegion == a.Region && o.ToRegion == b.Region)
                    {
                        profile = o.Profile;
                    }
                }

                foreach (NodeLinkOverride o in NodeOverrides)
                {
                    if (o.From == a.Id && o.To == b.Id)
                    {
                        profile = o.Profile;
                    }
                }

                table[(from * n) + to] = profile;
            }
        }

        return table;
    }

    private static void Check(LinkProfile? profile, string path, List<string> errors)
    {
        if (profile is null)
        {
            errors.Add($"{path} must not be null.");
            return;
        }

        profile.Validate(path, errors);
    }
}
