using Concord.Core;

namespace Concord.Replication.Raft;

/// <summary>
/// The leader's view of one follower (etcd-raft's tracker.Progress). In <c>Probe</c> the leader
/// sends one Append at a time until it learns where the logs match; in <c>Replicate</c> it streams
/// optimistically, with at most <c>InflightAppendsMax</c> Appends unacknowledged (flow control).
/// </summary>
internal sealed class Progress(int inflightMax)
{
    private readonly Queue<long> _inflightLastIndexes = new(inflightMax);

    public long Match { get; private set; }

    public long Next { get; private set; } = 1;

    public bool Replicating { get; private set; }

    /// <summary>In probe state: an Append is out and unanswered, so wait for its answer or a heartbeat.</summary>
    public bool ProbeSent { get; set; }

    /// <summary>The latest heartbeat round this follower acknowledged in the current term.</summary>
    public long RoundAcked { get; set; }

    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }

    public bool InflightFull => _inflightLastIndexes.Count >= inflightMax;

    public bool IsPaused => Replicating ? InflightFull : ProbeSent;

    public void Reset(long lastIndex, bool isSelf)
    {
        Match = isSelf ? lastIndex : 0;
        BecomeProbe();
        // Optimistic: a new leader assumes followers hold its whole log and backs off on rejection.
        Next = lastIndex + 1;
        RecentActive = isSelf;
        RoundAcked = 0;
    }

    public void BecomeProbe()
    {
        Replicating = false;
        ProbeSent = false;
        Next = Match + 1;
        _inflightLastIndexes.Clear();
    }

    /// <summary>Records an Append ending at <paramref name="lastIndex"/>.</summary>
    public void Sent(long lastIndex, int entryCount)
    {
        if (!Replicating)
        {
            ProbeSent = true;
            return;
        }

        if (entryCount > 0)
        {
            Invariant.Assert(!InflightFull);
            Invariant.Assert(lastIndex >= Next);
            _inflightLastIndexes.Enqueue(lastIndex);
            Next = lastIndex + 1;
        }
    }

    /// <summary>
    /// A snapshot up to <paramref name="index"/> is on its way: wait (probe) for its acknowledgement or
    /// a heartbeat, then continue after it, or send it again if the follower still lacks it.
    /// </summary>
    public void SentSnapshot(long index)
    {
        BecomeProbe();
        ProbeSent = true;
        Next = index + 1;
    }

    /// <summary>An acknowledgement up to <paramref name="index"/>; false when stale.</summary>
    public bool Acknowledge(long index)
    {
        ProbeSent = false;
        if (index <= Match)
        {
            return false;
        }

        Match = index;
        Next = Math.Max(Next, index + 1);
        while (_inflightLastIndexes.TryPeek(out long last) && last <= index)
        {
            _inflightLastIndexes.Dequeue();
        }

        if (!Replicating)
        {
            Replicating = true;
            Next = index + 1;
            _inflightLastIndexes.Clear();
        }

        return true;
    }

    /// <summary>The follower rejected the Append after <paramref name="rejected"/>; false when the rejection is stale.</summary>
    public bool Reject(long rejected, long hint)
    {
        if (Replicating)
        {
            if (rejected <= Match)
            {
                return false;
            }

            BecomeProbe();
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, hint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }
}
