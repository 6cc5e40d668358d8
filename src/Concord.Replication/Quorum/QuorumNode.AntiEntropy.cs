using System.Collections.Immutable;
using Concord.Core;
using Concord.Core.Checksums;

namespace Concord.Replication.Quorum;

public sealed partial class QuorumNode
{
    private const int AntiEntropySessionsMax = 16;

    private readonly IReadOnlyList<NodeId> _antiEntropyPeers;
    private readonly Dictionary<long, NodeId> _sessionPeer = [];
    private int _peerCursor;

    /// <summary>
    /// Builds a Merkle tree over the keys this node and <paramref name="peer"/> both replicate (the
    /// "range" they share), as Cassandra's validation compaction does before a repair.
    /// </summary>
    public MerkleTree BuildTreeSharedWith(NodeId peer)
    {
        var tree = new MerkleTree(_config.MerkleDepth);
        foreach ((string key, StoredValue value) in _store)
        {
            if (IsSharedWith(key, peer))
            {
                tree.Add(HashRing.TokenOf(key), value.Fingerprint(key));
            }
        }

        _ = tree.RootHash; // computes every inner hash: from here on the tree is read-only and can be shared
        return tree;
    }

    /// <summary>Round robin over the other members; each round compares one pair.</summary>
    private void StartAntiEntropy(IQuorumHost host)
    {
        if (_antiEntropyPeers.Count == 0)
        {
            return;
        }

        NodeId peer = _antiEntropyPeers[_peerCursor];
        _peerCursor = (_peerCursor + 1) % _antiEntropyPeers.Count;
        if (_sessionPeer.Count >= AntiEntropySessionsMax)
        {
            // Answers lost to partitions or crashes leave sessions behind; forget the oldest.
            _sessionPeer.Remove(_sessionPeer.Keys.Min());
        }

        long session = NextId();
        _sessionPeer.Add(session, peer);
        Stats.AntiEntropySessions++;
        host.Send(peer, new MerkleExchange(session, BuildTreeSharedWith(peer)));
    }

    private void OnMerkleExchange(NodeId from, MerkleExchange exchange, IQuorumHost host)
    {
        MerkleTree mine = BuildTreeSharedWith(from);
        if (mine.Depth != exchange.Tree.Depth)
        {
            return; // misconfigured peer; nothing can be compared
        }

        MerkleDiff diff = mine.Diff(exchange.Tree);
        if (diff.Ranges.Count == 0)
        {
            return;
        }

        Stats.AntiEntropyRangesDiffering += diff.Ranges.Count;
        host.Send(from, new MerkleDifference(exchange.SessionId, [.. diff.Ranges], EntriesIn(diff.Ranges, from)));
    }

    private void OnMerkleDifference(NodeId from, MerkleDifference difference, IQuorumHost host)
    {
        if (!_sessionPeer.Remove(difference.SessionId, out NodeId peer) || peer != from)
        {
            return;
        }

        // Compute our side before merging theirs, so both sides ship their pre-repair state.
        ImmutableArray<KeyState> ours = EntriesIn(difference.Ranges, from);
        MergeRepairEntries(difference.Entries, host);
        if (ours.Length > 0)
        {
            host.Send(from, new RepairEntries(ours));
        }
    }

    private void MergeRepairEntries(ImmutableArray<KeyState> entries, IQuorumHost host)
    {
        foreach (KeyState entry in entries)
        {
            // Only owners receive repair entries: they were selected from keys both sides replicate.
            Invariant.Assert(_ring.ReplicasOf(entry.Key).Contains(Self));
            if (MergeLocal(entry.Key, entry.Value, host))
            {
                Stats.KeysRepairedByAntiEntropy++;
            }
        }
    }

    /// <summary>This node's entries, shared with <paramref name="peer"/>, whose tokens fall in <paramref name="ranges"/>.</summary>
    private ImmutableArray<KeyState> EntriesIn(IReadOnlyList<LeafRange> ranges, NodeId peer)
    {
        var leaves = new HashSet<int>(ranges.Select(r => r.Leaf));
        var entries = ImmutableArray.CreateBuilder<KeyState>();
        foreach ((string key, StoredValue value) in _store)
        {
            if (IsSharedWith(key, peer) && leaves.Contains(LeafOf(HashRing.TokenOf(key))))
            {
                entries.Add(new KeyState(key, value));
            }
        }

        return entries.ToImmutable();
    }

    // The same leaf MerkleTree.LeafOf gives for this depth, without building a tree.
    private int LeafOf(ulong token) => _config.MerkleDepth == 0 ? 0 : (int)(token >> (64 - _config.MerkleDepth));

    private bool IsSharedWith(string key, NodeId peer)
    {
        IReadOnlyList<NodeId> replicas = _ring.ReplicasOf(key);
        return replicas.Contains(peer) && replicas.Contains(Self);
    }
}
