using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Concord.Core;
using Concord.Core.Checksums;

namespace Concord.Replication.Quorum;

/// <summary>A server on the ring and the region it lives in.</summary>
public readonly record struct RingMember(NodeId Node, string Region);

/// <summary>
/// Where a key lives: <see cref="Replicas"/> are the N nodes that own it (the preference list, in
/// ring order), <see cref="Fallbacks"/> the other nodes in ring order, which sloppy quorum borrows
/// when owners do not answer (Dynamo §4.6).
/// </summary>
public sealed record Placement(ulong Token, IReadOnlyList<NodeId> Replicas, IReadOnlyList<NodeId> Fallbacks);

/// <summary>
/// A consistent-hash ring with virtual nodes (Dynamo §4.2, Cassandra vnodes) and region-aware
/// placement (Cassandra's NetworkTopologyStrategy, simplified): a key's N replicas are the first
/// distinct nodes clockwise from its token, taking at most ⌈N / regions⌉ from any one region while
/// another region still has unused nodes, so that N ≥ regions puts a copy in every region.
/// Immutable; placements are cached per key (bounded).
/// </summary>
public sealed class HashRing
{
    public const int VirtualNodesPerMemberMax = 4096;
    private const int PlacementCacheMax = 1 << 16;

    private readonly ulong[] _tokens;       // sorted
    private readonly NodeId[] _tokenOwners; // parallel to _tokens
    private readonly Dictionary<NodeId, string> _regionByNode = [];
    private readonly Dictionary<string, Placement> _placementByKey = new(StringComparer.Ordinal);
    private readonly int _regionCount;

    public HashRing(IReadOnlyList<RingMember> members, int replicationFactor, int virtualNodesPerMember = 64)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("A ring needs at least one member.", nameof(members));
        }

        if (replicationFactor < 1 || replicationFactor > members.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(replicationFactor), replicationFactor,
                string.Create(CultureInfo.InvariantCulture, $"The replication factor must be within [1, {members.Count}] (the number of members)."));
        }

        if (virtualNodesPerMember is < 1 or > VirtualNodesPerMemberMax)
        {
            throw new ArgumentOutOfRangeException(nameof(virtualNodesPerMember), virtualNodesPerMember,
                string.Create(CultureInfo.InvariantCulture, $"virtualNodesPerMember must be within [1, {VirtualNodesPerMemberMax}]."));
        }

        foreach (RingMember member in members)
        {
            if (string.IsNullOrWhiteSpace(member.Region))
            {
                throw new ArgumentException($"Member {member.Node} has no region.", nameof(members));
            }

            if (!_regionByNode.TryAdd(member.Node, member.Region))
            {
                throw new ArgumentException($"Member {member.Node} appears twice.", nameof(members));
            }
        }

        Members = [.. members];
        ReplicationFactor = replicationFactor;
        VirtualNodesPerMember = virtualNodesPerMember;
        _regionCount = members.Select(m => m.Region).Distinct(StringComparer.Ordinal).Count();

        var points = new List<(ulong Token, NodeId Node)>(members.Count * virtualNodesPerMember);
        Span<byte> input = stackalloc byte[8];
        foreach (RingMember member in members)
        {
            for (int i = 0; i < virtualNodesPerMember; i++)
            {
                // A vnode's token depends only on (node, index): adding a member moves no other token.
                BinaryPrimitives.WriteUInt32LittleEndian(input, member.Node.Value);
                BinaryPrimitives.WriteInt32LittleEndian(input[4..], i);
                points.Add((XxHash3.HashToUInt64(input), member.Node));
            }
        }

        // Ties (astronomically rare) break by node id so every host builds the same ring.
        points.Sort(static (a, b) => a.Token != b.Token ? a.Token.CompareTo(b.Token) : a.Node.CompareTo(b.Node));
        _tokens = [.. points.Select(p => p.Token)];
        _tokenOwners = [.. points.Select(p => p.Node)];
    }

    public IReadOnlyList<RingMember> Members { get; }

    /// <summary>N: copies of every key.</summary>
    public int ReplicationFactor { get; }

    public int VirtualNodesPerMember { get; }

    /// <summary>The key's position on the ring; the same token the anti-entropy Merkle trees use.</summary>
    public static ulong TokenOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return MerkleTree.TokenOf(Encoding.UTF8.GetBytes(key));
    }

    public bool Contains(NodeId node) => _regionByNode.ContainsKey(node);

    public string RegionOf(NodeId node) => _regionByNode.TryGetValue(node, out string? region)
        ? region
        : throw new ArgumentOutOfRangeException(nameof(node), node, $"{node} is not a ring member.");

    /// <summary>A ring with one more member and the same N and vnode count.</summary>
    public HashRing With(RingMember member) => new([.. Members, member], ReplicationFactor, VirtualNodesPerMember);

    public Placement PlacementOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_placementByKey.TryGetValue(key, out Placement? cached))
        {
            return cached;
        }

        Placement placement = Compute(TokenOf(key));
        if (_placementByKey.Count >= PlacementCacheMax)
        {
            _placementByKey.Clear();
        }

        _placementByKey.Add(key, placement);
        return placement;
    }

    public IReadOnlyList<NodeId> ReplicasOf(string key) => PlacementOf(key).Replicas;

    private Placement Compute(ulong token)
    {
        // Distinct members in clockwise order from the first vnode at or after the token.
        int start = Array.BinarySearch(_tokens, token);
        if (start < 0)
        {
            start = ~start;
        }

        var walk = new List<NodeId>(Members.Count);
        var seen = new HashSet<NodeId>();
        for (int step = 0; step < _tokens.Length && walk.Count < Members.Count; step++)
        {
            NodeId owner = _tokenOwners[(start + step) % _tokens.Length];
            if (seen.Add(owner))
            {
                walk.Add(owner);
            }
        }

        Invariant.Assert(walk.Count == Members.Count);
        int perRegionMax = (ReplicationFactor + _regionCount - 1) / _regionCount;
        var replicas = new List<NodeId>(ReplicationFactor);
        var countByRegion = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (NodeId node in walk)
        {
            string region = _regionByNode[node];
            int count = countByRegion.GetValueOrDefault(region);
            if (replicas.Count < ReplicationFactor && count < perRegionMax)
            {
                replicas.Add(node);
                countByRegion[region] = count + 1;
            }
        }

        // A region with too few nodes leaves slots open: fill them from the walk, in order.
        foreach (NodeId node in walk)
        {
            if (replicas.Count == ReplicationFactor)
            {
                break;
            }

            if (!replicas.Contains(node))
            {
                replicas.Add(node);
            }
        }

        Invariant.Assert(replicas.Count == ReplicationFactor);
        Invariant.Assert(replicas.Distinct().Count() == ReplicationFactor);
        return new Placement(token, replicas, [.. walk.Where(n => !replicas.Contains(n))]);
    }
}
