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
            if (m.Type is RaftMessageType.PreVote or RaftMessageType.Vote && InLeaderLease)
            {
                return;
            }

            bool keepsTerm = m.Type == RaftMessageType.PreVote
                || (m.Type == RaftMessageType.PreVoteResponse && !m.Reject);
            if (!keepsTerm)
            {
                bool fromLeader = m.Type is RaftMessageType.Append or RaftMessageType.Heartbeat;
                BecomeFollower(m.Term, fromLeader ? m.From : null);
            }
        }
        else if (m.Term < Term)
        {
            if (m.Type is RaftMessageType.Append or RaftMessageType.Heartbeat)
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
            foreach (NodeId peer in _config.Voters)
            {
                if (peer != Self)
                {
                    SendHeartbeat(peer, _pendingReads.Count > 0 ? _pendingReads[^1].Round : 0);
                }
            }
        }
    }

    private void AppendAsLeader(IReadOnlyList<string?> commands)
    {
        Invariant.Assert(Role == RaftRole.Leader);
        foreach (string? command in commands)
        {
            _log.Add(new LogEntry(Term, _log.Count, command));
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
        int count = (int)Math.Min(_config.EntriesPerAppendMax, LastIndex - prevIndex);
        ImmutableArray<LogEntry> entries = [.. _log.Skip((int)prevIndex + 1).Take(count)];
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
        Send(new RaftMessage(RaftMessageType.Heartbeat, Self, peer, Term) { Commit = commit, Context = readRound });
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
                _log.RemoveRange((int)entry.Index, _log.Count - (int)entry.Index);
                _firstUnstableIndex = Math.Min(_firstUnstableIndex, entry.Index);
            }

            Invariant.Assert(entry.Index == _log.Count);
            Invariant.Assert(entry.Term >= LastTerm);
            _log.Add(entry);
        }

        long lastNew = m.Index + m.Entries.Length;
        CommitTo(Math.Min(m.Commit, lastNew));
        Send(new RaftMessage(RaftMessageType.AppendResponse, Self, m.From, Term) { Index = lastNew });
    }

    private void HandleHeartbeat(RaftMessage m)
    {
        CommitTo(m.Commit);
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

        if (m.Context != 0)
        {
            AcknowledgeReads(m.From, m.Context);
        }
    }

    private void AcknowledgeReads(NodeId from, long round)
    {
        // An ack for round r also confirms every earlier round: the heartbeat left after all of them were taken.
        int released = 0;
        for (int i = 0; i < _pendingReads.Count; i++)
        {
            PendingRead read = _pendingReads[i];
            if (read.Round > round)
            {
                break;
            }

            read.Acks.Add(from);
        }

        for (int i = _pendingReads.Count - 1; i >= 0; i--)
        {
            if (_pendingReads[i].Acks.Count >= _config.Quorum)
            {
                released = i + 1;
                break;
            }
        }

        for (int i = 0; i < released; i++)
        {
            _readStates.Add(new ReadState(_pendingReads[i].RequestId, _pendingReads[i].Index));
        }

        _pendingReads.RemoveRange(0, released);
    }
}
