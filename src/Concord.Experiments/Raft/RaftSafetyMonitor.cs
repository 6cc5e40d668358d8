using System.Globalization;
using Concord.Core;
using Concord.Replication.Raft;

namespace Concord.Experiments.Raft;

/// <summary>
/// Raft's safety properties (Raft paper, Figure 3), checked continuously from outside the nodes
/// after every handler. It sees all nodes, so it checks what no single node can: a violation throws
/// inside the handler, and the simulator turns that into a SimulationFailure carrying the seed.
/// </summary>
public sealed class RaftSafetyMonitor
{
    private readonly Dictionary<long, NodeId> _leaderByTerm = [];
    // (index, term) → the entry's command and the term of its predecessor. Agreement here, for every
    // entry any node ever persisted, is the Log Matching property by induction on the index.
    private readonly Dictionary<(long Index, long Term), (string? Command, long PreviousTerm)> _entries = [];
    private readonly List<LogEntry> _applied = [new LogEntry(0, 0, null)];
    // Per index: the committed entry's term and the earliest leader term seen committing it. A leader
    // of term T must hold what leaders of terms below T committed — but not what a later term
    // committed: a candidate may collect old votes and lead a stale term after that, harmlessly,
    // since no majority will accept its appends.
    private readonly List<(long EntryTerm, long CommitTerm)> _committed = [(0, 0)];
    private readonly Dictionary<NodeId, (long Term, long Commit)> _leaderCommitChecked = [];
    // Snapshot index → its state: two snapshots at one index must hold the same state.
    private readonly Dictionary<long, string> _snapshotData = [];
    private readonly List<(long Term, NodeId Leader, long AtUs)> _firstCommitByTerm = [];

    public int LeadersElected => _leaderByTerm.Count;

    public int SnapshotsTaken { get; private set; }

    public int SnapshotsInstalled { get; private set; }

    /// <summary>True simulated time, for stamping observations (an observer may see it; the nodes may not).</summary>
    public Func<long> Clock { get; set; } = () => 0;

    /// <summary>Per term, when its leader first committed an entry of that term (its no-op): the group is available again.</summary>
    public IReadOnlyList<(long Term, NodeId Leader, long AtUs)> FirstCommitByTerm => _firstCommitByTerm;

    /// <summary>The leader of each term, for reports.</summary>
    public IReadOnlyDictionary<long, NodeId> LeaderByTerm => _leaderByTerm;

    public long CommittedIndexMax => _applied.Count - 1;

    /// <summary>
    /// Called after every handler while <paramref name="node"/> leads. Election safety: at most one
    /// leader per term. Leader completeness: a new leader holds every entry committed in earlier terms.
    /// </summary>
    public void ObserveLeader(RaftNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (_leaderByTerm.TryGetValue(node.Term, out NodeId existing))
        {
            Check(existing == node.Self, $"election safety: {existing} and {node.Self} both lead term {node.Term}");
        }
        else
        {
            _leaderByTerm.Add(node.Term, node.Self);
            // Below the leader's snapshot index the entries are compacted; ObserveSnapshot checked that snapshot.
            for (int i = (int)Math.Max(1, node.SnapshotIndex); i < _committed.Count; i++)
            {
                (long entryTerm, long commitTerm) = _committed[i];
                Check(commitTerm >= node.Term || node.TermAt(i) == entryTerm, $"leader completeness: {node.Self}, leader of term {node.Term}, lacks entry {i}@{entryTerm} committed in term {commitTerm} (has term {node.TermAt(i)})");
            }
        }

        // A leader's committed prefix never changes within its term, so each index is recorded once per (leader, term).
        long checkedUpTo = _leaderCommitChecked.TryGetValue(node.Self, out var seen) && seen.Term == node.Term ? seen.Commit : 0;
        _leaderCommitChecked[node.Self] = (node.Term, Math.Max(checkedUpTo, node.Commit));
        if (node.TermAt(node.Commit) == node.Term && (_firstCommitByTerm.Count == 0 || _firstCommitByTerm[^1].Term < node.Term))
        {
            _firstCommitByTerm.Add((node.Term, node.Self, Clock()));
        }

        for (int i = (int)Math.Max(checkedUpTo + 1, node.SnapshotIndex); i <= node.Commit; i++)
        {
            if (i < _committed.Count)
            {
                (long entryTerm, long commitTerm) = _committed[i];
                Check(entryTerm == node.TermAt(i), $"state-machine safety: {node.Self} (term {node.Term}) committed {i}@{node.TermAt(i)}, term {commitTerm} committed {i}@{entryTerm}");
                _committed[i] = (entryTerm, Math.Min(commitTerm, node.Term));
            }
            else
            {
                _committed.Add((node.TermAt(i), node.Term));
            }
        }
    }

    /// <summary>Log matching, checked for each entry as the node persists it.</summary>
    public void ObservePersisted(RaftNode node, LogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(entry);
        long previousTerm = node.TermAt(entry.Index - 1);
        if (_entries.TryGetValue((entry.Index, entry.Term), out var known))
        {
            Check(known.Command == entry.Command, $"log matching: {node.Self} holds {entry}, another node {known.Command} at the same index and term");
            Check(known.PreviousTerm == previousTerm, $"log matching: {node.Self} holds {entry} after term {previousTerm}, another node after term {known.PreviousTerm}");
        }
        else
        {
            _entries.Add((entry.Index, entry.Term), (entry.Command, previousTerm));
        }
    }

    /// <summary>
    /// A snapshot taken (or installed) by <paramref name="node"/>: it must end at an applied entry with
    /// the same term, and every snapshot at one index must hold the same state.
    /// </summary>
    public void ObserveSnapshot(NodeId node, Snapshot snapshot, bool installed)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Check(snapshot.Index < _applied.Count, $"snapshot: {node} holds {snapshot}, beyond every applied entry ({_applied.Count - 1})");
        Check(_applied[(int)snapshot.Index].Term == snapshot.Term, $"snapshot: {node} holds {snapshot}, but the entry applied there is {_applied[(int)snapshot.Index]}");
        if (_snapshotData.TryGetValue(snapshot.Index, out string? data))
        {
            Check(data == snapshot.Data, $"snapshot: {node} holds a state at {snapshot} that differs from another node's at the same index");
        }
        else
        {
            _snapshotData.Add(snapshot.Index, snapshot.Data);
        }

        if (installed)
        {
            SnapshotsInstalled++;
        }
        else
        {
            SnapshotsTaken++;
        }
    }

    /// <summary>State-machine safety: no two nodes apply different entries at one index.</summary>
    public void ObserveApplied(NodeId node, LogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Index < _applied.Count)
        {
            LogEntry first = _applied[(int)entry.Index];
            Check(first == entry, $"state-machine safety: {node} applied {entry} where another node applied {first}");
            return;
        }

        Check(entry.Index == _applied.Count, $"{node} applied {entry} before index {_applied.Count}");
        _applied.Add(entry);
    }

    private static void Check(bool condition, string violation)
    {
        if (!condition)
        {
            Invariant.Fail(violation);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"leaders={LeadersElected} committed={CommittedIndexMax}");
}
