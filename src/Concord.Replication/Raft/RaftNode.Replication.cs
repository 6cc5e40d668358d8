using System.Collections.Immutable;
using Concord.Core;

namespace Concord.Replication.Raft;

public sealed partial class RaftNode
{
    /// <summary>Handles one message from a peer.</summary>
    public void Step(RaftMessage m)
    {
        ArgumentNullException.ThrowIfNull(m);
        EnsureNoReadyOutstanding();
        Invariant.Assert(m.To == Self);
        if (m.From == Self || !_config.Voters.Contains(m.From))
        {
            return;
        }

        if (m.Term > Term)
        {
            bool fromLeader = m.Type is RaftMessageType.Append or RaftMessageType.Heartbeat or RaftMessageType.Snapshot;
            if (InLeaderLease && Role != RaftRole.Leader && !fromLeader && !m.LeaderTransfer)
            {
                // Neither a vote nor a stray higher-term answer may move a follower that still hears
                // from its leader: at the new term it would have no leader and could vote at once.
                return;
            }

            if (m.Type is RaftMessageType.PreVote or RaftMessageType.Vote && InLeaderLease && !m.LeaderTransfer)
            {
                return;
            }

            bool keepsTerm = m.Type == RaftMessageType.PreVote
                || (m.Type == RaftMessageType.PreVoteResponse && !m.Reject);
            if (!keepsTerm)
            {
                BecomeFollower(m.Term, fromLeader ? m.From : null);
            }
        }
        else if (m.Term < Term)
        {
            if (m.Type is RaftMessageType.Append or RaftMessageType.Heartbeat or RaftMessageType.Snapshot)
            {
                // A deposed leader cut off by check-quorum or pre-vote would otherwise never learn the new term.
                Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term));
            }
            else if (m.Type == RaftMessageType.PreVote)
            {
                Send(new RaftMessage(RaftMessageType.PreVoteResponse, Self, m.From, Term) { Reject = true });
            }

            return;
        }

        switch (m.Type)
        {
            case RaftMessageType.PreVote or RaftMessageType.Vote:
                HandleVoteRequest(m);
                break;
            case RaftMessageType.PreVoteResponse or RaftMessageType.VoteResponse:
                HandleVoteResponse(m);
                break;
            case RaftMessageType.Append:
                FollowLeader(m.From);
                HandleAppend(m);
                break;
            case RaftMessageType.Heartbeat:
                FollowLeader(m.From);
                HandleHeartbeat(m);
                break;
            case RaftMessageType.Snapshot:
                FollowLeader(m.From);
                HandleSnapshot(m);
                break;
            case RaftMessageType.TimeoutNow:
                HandleTimeoutNow(m);
                break;
            case RaftMessageType.AppendResponse when Role == RaftRole.Leader:
                HandleAppendResponse(m);
                break;
            case RaftMessageType.HeartbeatResponse when Role == RaftRole.Leader:
                HandleHeartbeatResponse(m);
                break;
            default:
                break;
        }
    }

    private void FollowLeader(NodeId leader)
    {
        // Election safety: two leaders in one term would mean two vote majorities.
        Invariant.Assert(Role != RaftRole.Leader);
        if (Role != RaftRole.Follower || Leader != leader)
        {
            BecomeFollower(Term, leader);
        }

        _electionElapsed = 0;
    }

    private void TickLeader()
    {
        _heartbeatElapsed++;
        if (_electionElapsed >= _config.ElectionTicks)
        {
            _electionElapsed = 0;
            // A transfer that did not finish within an election timeout is abandoned.
            _transferee = null;
            if (_config.CheckQuorum)
            {
                int active = _config.Voters.Count(v => _progress[v].RecentActive);
                if (active < _config.Quorum)
                {
                    BecomeFollower(Term, null);
                    return;
                }

                foreach (NodeId voter in _config.Voters)
                {
                    _progress[voter].RecentActive = voter == Self;
                }
            }
        }

        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    /// <summary>
    /// Sends one heartbeat round to every follower. Each round has a number the answers echo: a quorum
    /// of answers for round r confirms that this node still led when r left, which releases the
    /// reads waiting on r and (with leases) starts a lease at r's send time.
    /// </summary>
    private void BroadcastHeartbeat()
    {
        long round = ++_heartbeatRound;
        if (_config.Lease is not null)
        {
            if (_roundsSent.Count == RoundsSentMax)
            {
                // Forgetting the oldest round only forgoes a lease it could have started.
                _roundsSent.Dequeue();
            }

            _roundsSent.Enqueue((round, ClockUs()));
        }

        foreach (NodeId peer in _config.Voters)
        {
            if (peer != Self)
            {
                SendHeartbeat(peer, round);
            }
        }
    }

    private void AppendAsLeader(IReadOnlyList<string?> commands)
    {
        Invariant.Assert(Role == RaftRole.Leader);
        foreach (string? command in commands)
        {
            _log.Add(new LogEntry(Term, LastIndex + 1, command));
        }

        Progress self = _progress[Self];
        self.Acknowledge(LastIndex);
        if (_config.UnsafeCommitWithoutMajority)
        {
            Commit = LastIndex;
        }

        // A single voter commits here; otherwise commit waits for acknowledgements.
        TryAdvanceCommit();
        foreach (NodeId peer in _config.Voters)
        {
            if (peer != Self)
            {
                SendAppends(peer);
            }
        }
    }

    /// <summary>Majority commit: the highest index a quorum holds, counted only for an entry of this term.</summary>
    private bool TryAdvanceCommit()
    {
        long[] matches = [.. _config.Voters.Select(v => _progress[v].Match).OrderDescending()];
        long quorumIndex = matches[_config.Quorum - 1];
        if (quorumIndex > Commit && TermAt(quorumIndex) == Term)
        {
            Commit = quorumIndex;
            return true;
        }

        return false;
    }

    /// <summary>Sends as many Appends as the follower's window allows (at least one when probing).</summary>
    private void SendAppends(NodeId peer)
    {
        Progress progress = _progress[peer];
        bool sentAny = false;
        while (!progress.IsPaused && (progress.Next <= LastIndex || !sentAny))
        {
            SendAppend(peer, progress);
            sentAny = true;
            if (progress.Next > LastIndex)
            {
                break;
            }
        }
    }

    private void SendAppend(NodeId peer, Progress progress)
    {
        long prevIndex = progress.Next - 1;
        Invariant.Assert(prevIndex >= 0 && prevIndex <= LastIndex);
        if (prevIndex < SnapshotIndex)
        {
            // The entries this follower needs are compacted: send the snapshot instead.
            Invariant.Assert(_snapshot is not null && _snapshot.Index == SnapshotIndex);
            Send(new RaftMessage(RaftMessageType.Snapshot, Self, peer, Term) { Snapshot = _snapshot });
            progress.SentSnapshot(SnapshotIndex);
            return;
        }

        int count = (int)Math.Min(_config.EntriesPerAppendMax, LastIndex - prevIndex);
        ImmutableArray<LogEntry> entries = [.. _log.Skip((int)(prevIndex - SnapshotIndex) + 1).Take(count)];
        Send(new RaftMessage(RaftMessageType.Append, Self, peer, Term)
        {
            Index = prevIndex,
            LogTerm = TermAt(prevIndex),
            Commit = Commit,
            Entries = entries,
        });
        progress.Sent(prevIndex + count, count);
    }

    private void SendHeartbeat(NodeId peer, long readRound)
    {
        // Never tell a follower a commit beyond what it is known to hold: it could not check it against its log.
        long commit = Math.Min(_progress[peer].Match, Commit);
        Send(new RaftMessage(RaftMessageType.Heartbeat, Self, peer, Term) { Commit = commit, LeaderCommit = Commit, Context = readRound });
    }

    private void HandleAppend(RaftMessage m)
    {
        if (m.Index < Commit)
        {
            Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term) { Index = Commit });
            return;
        }

        if (TermAt(m.Index) != m.LogTerm)
        {
            Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term)
            {
                Index = m.Index,
                Reject = true,
                RejectHint = Math.Min(m.Index, LastIndex),
            });
            return;
        }

        foreach (LogEntry entry in m.Entries)
        {
            if (entry.Index <= LastIndex)
            {
                if (TermAt(entry.Index) == entry.Term)
                {
                    continue;
                }

                // Leader completeness makes this safe: a committed entry is never in conflict.
                Invariant.Assert(entry.Index > Commit);
                int at = (int)(entry.Index - SnapshotIndex);
                _log.RemoveRange(at, _log.Count - at);
                _firstUnstableIndex = Math.Min(_firstUnstableIndex, entry.Index);
            }

            Invariant.Assert(entry.Index == LastIndex + 1);
            Invariant.Assert(entry.Term >= LastTerm);
            _log.Add(entry);
        }

        long lastNew = m.Index + m.Entries.Length;
        // Up to lastNew this log now equals the leader's, and a leader never rewrites its own log.
        _matchedWithLeader = Math.Max(_matchedWithLeader, lastNew);
        LeaderCommitSeen = Math.Max(LeaderCommitSeen, m.Commit);
        CommitTo(Math.Min(m.Commit, lastNew));
        Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term) { Index = lastNew });
    }

    private void HandleSnapshot(RaftMessage m)
    {
        Snapshot snapshot = m.Snapshot ?? throw new InvalidOperationException("a Snapshot message without a snapshot");
        if (snapshot.Index <= Commit)
        {
            Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term) { Index = Commit });
            return;
        }

        _matchedWithLeader = Math.Max(_matchedWithLeader, snapshot.Index);
        if (TermAt(snapshot.Index) == snapshot.Term)
        {
            // The log already holds the snapshot's last entry, so by log matching everything before it: just commit.
            CommitTo(snapshot.Index);
        }
        else
        {
            // Everything here is either in the snapshot or in conflict with it: restart the log after it.
            Invariant.Assert(snapshot.Index > Commit);
            _log.Clear();
            _log.Add(new LogEntry(snapshot.Term, snapshot.Index, null));
            _snapshot = snapshot;
            _unappliedSnapshot = snapshot;
            _firstUnstableIndex = LastIndex + 1;
            Commit = snapshot.Index;
        }

        Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term) { Index = snapshot.Index });
    }

    private void HandleHeartbeat(RaftMessage m)
    {
        LeaderCommitSeen = Math.Max(LeaderCommitSeen, m.LeaderCommit);
        // The capped commit is what the leader knows this log holds; this node may know it holds more of the leader's log.
        CommitTo(Math.Max(m.Commit, Math.Min(m.LeaderCommit, _matchedWithLeader)));
        Send(new RaftMessage(RaftMessageType.HeartbeatResponse, Self, m.From, Term) { Context = m.Context });
    }

    private void CommitTo(long index)
    {
        if (index > Commit)
        {
            Invariant.Assert(index <= LastIndex);
            Commit = index;
        }
    }

    private void HandleAppendResponse(RaftMessage m)
    {
        Progress progress = _progress[m.From];
        progress.RecentActive = true;
        if (m.Reject)
        {
            if (progress.Reject(m.Index, m.RejectHint))
            {
                SendAppends(m.From);
            }

            return;
        }

        if (progress.Acknowledge(m.Index))
        {
            Invariant.Assert(progress.Match <= LastIndex);
            if (m.From == _transferee && progress.Match == LastIndex)
            {
                Send(new RaftMessage(RaftMessageType.TimeoutNow, Self, m.From, Term));
            }

            if (TryAdvanceCommit())
            {
                foreach (NodeId peer in _config.Voters)
                {
                    if (peer != Self)
                    {
                        // Spread the new commit index without waiting for the next heartbeat.
                        SendAppends(peer);
                    }
                }

                return;
            }
        }

        if (progress.Next <= LastIndex)
        {
            SendAppends(m.From);
        }
    }

    private void HandleHeartbeatResponse(RaftMessage m)
    {
        Progress progress = _progress[m.From];
        progress.RecentActive = true;
        progress.ProbeSent = false;
        if (progress.Replicating && progress.InflightFull)
        {
            // A full window at a heartbeat means acknowledgements were lost: restart from what is known to match.
            progress.BecomeProbe();
        }

        if (progress.Match < LastIndex)
        {
            SendAppends(m.From);
        }

        if (m.Context > progress.RoundAcked)
        {
            progress.RoundAcked = m.Context;
            ConfirmRounds();
        }
    }

    /// <summary>
    /// The latest round a quorum has acknowledged (an answer to round r vouches for every earlier
    /// round: it left after them) confirms leadership as of that round's sending.
    /// </summary>
    private void ConfirmRounds()
    {
        long[] acked = [.. _config.Voters.Select(v => v == Self ? _heartbeatRound : _progress[v].RoundAcked).OrderDescending()];
        long confirmed = acked[_config.Quorum - 1];
        if (confirmed <= _confirmedRound)
        {
            return;
        }

        _confirmedRound = confirmed;
        while (_roundsSent.TryPeek(out var sent) && sent.Round <= confirmed)
        {
            _roundsSent.Dequeue();
            if (sent.Round == confirmed)
            {
                _leaseStartUs = sent.SentUs;
            }
        }

        int released = 0;
        while (released < _pendingReads.Count && _pendingReads[released].Round <= confirmed)
        {
            _readStates.Add(new ReadState(_pendingReads[released].RequestId, _pendingReads[released].Index));
            released++;
        }

        _pendingReads.RemoveRange(0, released);
    }
}
