using Concord.Core;

namespace Concord.Replication.Raft;

public sealed partial class RaftNode
{
    private void BecomeFollower(long term, NodeId? leader)
    {
        Invariant.Assert(term >= Term);
        if (term > Term || leader != Leader)
        {
            _matchedWithLeader = 0;
        }

        if (term > Term)
        {
            Term = term;
            VotedFor = null;
        }

        Role = RaftRole.Follower;
        Leader = leader;
        _pendingReads.Clear();
        _roundsSent.Clear();
        _leaseStartUs = null;
        _transferee = null;
        ResetElectionTimer();
    }

    private void Campaign(bool leaderTransfer = false)
    {
        if (leaderTransfer)
        {
            // The leader asked for this election: no pre-vote, and voters that still follow it grant anyway.
            BecomeCandidate(leaderTransfer: true);
        }
        else if (_config.PreVote)
        {
            Role = RaftRole.PreCandidate;
            Leader = null;
            // Pre-vote changes neither term nor vote: a node cut off from the group can retry forever harmlessly.
            StartPoll(RaftMessageType.PreVote, Term + 1);
        }
        else
        {
            BecomeCandidate();
        }
    }

    private void BecomeCandidate(bool leaderTransfer = false)
    {
        Invariant.Assert(Role != RaftRole.Leader);
        Term++;
        VotedFor = Self;
        Role = RaftRole.Candidate;
        Leader = null;
        ResetElectionTimer();
        StartPoll(RaftMessageType.Vote, Term, leaderTransfer);
    }

    private void StartPoll(RaftMessageType type, long term, bool leaderTransfer = false)
    {
        _votes.Clear();
        _rejections.Clear();
        _votes.Add(Self);
        if (CountPoll())
        {
            return;
        }

        foreach (NodeId peer in _config.Voters)
        {
            if (peer != Self)
            {
                Send(new RaftMessage(type, Self, peer, term) { Index = LastIndex, LogTerm = LastTerm, LeaderTransfer = leaderTransfer });
            }
        }
    }

    /// <summary>Acts on the poll's outcome; true when it is decided.</summary>
    private bool CountPoll()
    {
        if (_votes.Count >= _config.Quorum)
        {
            if (Role == RaftRole.PreCandidate)
            {
                BecomeCandidate();
            }
            else
            {
                BecomeLeader();
            }

            return true;
        }

        if (_rejections.Count >= _config.Quorum)
        {
            BecomeFollower(Term, null);
            return true;
        }

        return false;
    }

    private void BecomeLeader()
    {
        Invariant.Assert(Role == RaftRole.Candidate);
        Invariant.Assert(VotedFor == Self);
        Role = RaftRole.Leader;
        Leader = Self;
        _leaseForfeited = false;
        _confirmedRound = _heartbeatRound;
        ResetElectionTimer();
        foreach (NodeId peer in _config.Voters)
        {
            if (!_progress.TryGetValue(peer, out Progress? progress))
            {
                progress = new Progress(_config.InflightAppendsMax);
                _progress.Add(peer, progress);
            }

            progress.Reset(LastIndex, peer == Self);
        }

        // Entries of earlier terms commit only by counting an entry of this term (thesis §3.6.2),
        // so a new leader appends a no-op at once.
        AppendAsLeader([null]);
    }

    private void HandleVoteRequest(RaftMessage m)
    {
        bool isPreVote = m.Type == RaftMessageType.PreVote;
        RaftMessageType responseType = isPreVote ? RaftMessageType.PreVoteResponse : RaftMessageType.VoteResponse;
        bool canVote = VotedFor == m.From
            || (VotedFor is null && Leader is null)
            || (isPreVote && m.Term > Term);
        bool upToDate = m.LogTerm > LastTerm || (m.LogTerm == LastTerm && m.Index >= LastIndex);
        if (canVote && upToDate)
        {
            // A pre-vote grant answers in the term asked about, so the pre-candidate can tell it from a stale answer.
            Send(new RaftMessage(responseType, Self, m.From, m.Term));
            if (!isPreVote)
            {
                Invariant.Assert(m.Term == Term);
                _electionElapsed = 0;
                VotedFor = m.From;
            }
        }
        else
        {
            Send(new RaftMessage(responseType, Self, m.From, Term) { Reject = true });
        }
    }

    private void HandleVoteResponse(RaftMessage m)
    {
        RaftMessageType expected = Role == RaftRole.PreCandidate ? RaftMessageType.PreVoteResponse : RaftMessageType.VoteResponse;
        if (m.Type != expected || Role is not (RaftRole.PreCandidate or RaftRole.Candidate))
        {
            return;
        }

        if (m.Reject)
        {
            _rejections.Add(m.From);
        }
        else
        {
            _votes.Add(m.From);
        }

        CountPoll();
    }

    /// <summary>
    /// With check-quorum, a follower that heard from a live leader within the election timeout refuses
    /// to help depose it. With lease reads a node that just booted abstains for an election timeout
    /// too: it may have acknowledged a heartbeat round before it crashed, and the leader's lease counts on it.
    /// </summary>
    private bool InLeaderLease =>
        (_config.CheckQuorum && Leader is not null && _electionElapsed < _config.ElectionTicks)
        || (_config.Lease is not null && _ticksSinceBoot < _config.ElectionTicks);

    private void HandleTimeoutNow(RaftMessage m)
    {
        if (Role == RaftRole.Follower && Leader == m.From)
        {
            Campaign(leaderTransfer: true);
        }
    }
}
