using Concord.Core;

namespace Concord.Replication.Quorum;

/// <summary>
/// One replica's Paxos state for one key (Cassandra's <c>system.paxos</c> row): the highest ballot it
/// promised, the proposal it accepted that no commit has superseded yet, and the most recent commit
/// it learned. Immutable; persisted under <c>paxos/{key}</c> before any answer that depends on it leaves.
/// </summary>
public sealed record PaxosAcceptorState(Ballot Promised, Proposal? InProgress, Proposal? MostRecentCommit)
{
    public static PaxosAcceptorState Empty { get; } = new(Ballot.Zero, null, null);
}

/// <summary>The acceptor side of lightweight transactions: the rules every replica of a key follows.</summary>
public sealed partial class QuorumNode
{
    private const string PaxosPrefix = "paxos/";
    private readonly Dictionary<string, PaxosAcceptorState> _paxos = new(StringComparer.Ordinal);

    /// <summary>This replica's Paxos state per key (read-only view for tests and checkers).</summary>
    public IReadOnlyDictionary<string, PaxosAcceptorState> PaxosStates => _paxos;

    /// <summary>Promise iff the ballot is above every ballot promised so far; report what was accepted and learned.</summary>
    private void OnPaxosPrepare(NodeId from, PaxosPrepare prepare, IQuorumHost host)
    {
        PaxosAcceptorState state = PaxosStateOf(prepare.Key);
        if (prepare.Ballot <= state.Promised)
        {
            host.Send(from, new PaxosPromise(prepare.RequestId, prepare.Round, false, state.Promised, null, null, null));
            return;
        }

        state = state with { Promised = prepare.Ballot };
        // Durable before the promise leaves (the host persists first): a replica that restarts must
        // not promise or accept a lower ballot, or two proposers could both believe they own the round.
        SavePaxosState(prepare.Key, state, host);
        host.Send(from, new PaxosPromise(
            prepare.RequestId,
            prepare.Round,
            true,
            state.Promised,
            state.InProgress,
            state.MostRecentCommit,
            prepare.WithValue ? _store.GetValueOrDefault(prepare.Key) : null));
    }

    private void OnPaxosRead(NodeId from, PaxosRead read, IQuorumHost host) =>
        host.Send(from, new PaxosReadReply(read.RequestId, read.Round, _store.GetValueOrDefault(read.Key)));

    /// <summary>Accept iff no higher ballot was promised (an equal one is the proposer we promised).</summary>
    private void OnPaxosPropose(NodeId from, PaxosPropose propose, IQuorumHost host)
    {
        PaxosAcceptorState state = PaxosStateOf(propose.Key);
        Proposal proposal = propose.Proposal;
        if (proposal.Ballot < state.Promised)
        {
            host.Send(from, new PaxosAcceptReply(propose.RequestId, propose.Round, false, state.Promised));
            return;
        }

        // A ballot belongs to one proposer and one value: a second value under it would let two
        // different proposals be chosen in one round.
        Invariant.Assert(state.InProgress is not { } held || held.Ballot != proposal.Ballot || held.Value == proposal.Value);
        state = state with { Promised = proposal.Ballot, InProgress = proposal };
        SavePaxosState(propose.Key, state, host);
        host.Send(from, new PaxosAcceptReply(propose.RequestId, propose.Round, true, state.Promised));
    }

    /// <summary>Learn a chosen proposal: apply it to the stored value (a last-write-wins merge at its ballot) and retire older proposals.</summary>
    private void OnPaxosCommit(NodeId from, PaxosCommit commit, IQuorumHost host)
    {
        PaxosAcceptorState state = PaxosStateOf(commit.Key);
        Proposal proposal = commit.Proposal;
        Invariant.Assert(state.MostRecentCommit is not { } last || last.Ballot != proposal.Ballot || last.Value == proposal.Value);
        PaxosAcceptorState next = state with
        {
            MostRecentCommit = state.MostRecentCommit is { } known && known.Ballot >= proposal.Ballot ? known : proposal,
            InProgress = state.InProgress is { } accepted && accepted.Ballot <= proposal.Ballot ? null : state.InProgress,
        };
        if (next != state)
        {
            SavePaxosState(commit.Key, next, host);
        }

        MergeLocal(commit.Key, proposal.ToStoredValue(), host);
        host.Send(from, new PaxosCommitAck(commit.RequestId, commit.Round));
    }

    private PaxosAcceptorState PaxosStateOf(string key)
    {
        // The coordinator picks replicas from its copy of the same ring, so Paxos traffic for a key reaches only its replicas.
        Invariant.Assert(_ring.ReplicasOf(key).Contains(Self));
        return _paxos.GetValueOrDefault(key, PaxosAcceptorState.Empty);
    }

    private void SavePaxosState(string key, PaxosAcceptorState state, IQuorumHost host)
    {
        _paxos[key] = state;
        host.WriteDurable(PaxosPrefix + key, state);
    }
}
