using System.Collections.Immutable;
using Concord.Core;
using Concord.Core.Randomness;

namespace Concord.Replication.Quorum;

/// <summary>
/// The coordinator (proposer) side of lightweight transactions: Cassandra's Paxos v1 per key, for
/// <see cref="OperationKind.PaxosCompareAndSet"/> and <see cref="OperationKind.SerialRead"/>.
/// README.md, "Lightweight transactions", walks through the phases and why each rule is there.
/// </summary>
public sealed partial class QuorumNode
{
    private const string LastBallotKey = "lwt/last-ballot";
    private readonly Dictionary<long, LwtRequest> _lwt = [];
    private readonly SeededRandom _random;

    /// <summary>The last ballot this node issued; every new one is above it, across restarts.</summary>
    private Ballot _lastBallot;

    private enum LwtPhase
    {
        Preparing,

        /// <summary>Finishing another coordinator's accepted but uncommitted proposal under our ballot.</summary>
        RepairProposing,
        RepairCommitting,
        Reading,
        Proposing,
        Committing,
        BackingOff,
    }

    private void StartLwt(ClientRequest request, IQuorumHost host)
    {
        if (_config.Versioning != VersionMode.LastWriteWins)
        {
            Refuse(request, $"lightweight transactions need {VersionMode.LastWriteWins} versioning, not {_config.Versioning}", host);
            return;
        }

        if (_lwt.Values.Any(l => l.Request.Client == request.Client && l.Request.RequestId == request.RequestId))
        {
            // A duplicate of a request this node is running (the network may deliver one twice). Two
            // runs would race: the second could find the first's value in progress, finish it, and
            // answer CompareFailed for an operation that took effect.
            return;
        }

        if (_pending.Count + _lwt.Count >= _config.PendingRequestsMax)
        {
            Refuse(request, "coordinator overloaded", host);
            return;
        }

        var lwt = new LwtRequest(NextId(), request, _ring.ReplicasOf(request.Key));
        _lwt.Add(lwt.Id, lwt);
        Stats.LwtRequests++;
        host.SetTimer(_config.Lwt.RequestTimeoutUs, Tag(TimerKind.LwtTimeout, lwt.Id));
        Prepare(lwt, host);
    }

    /// <summary>Round trip 1: prepare a fresh ballot at every replica.</summary>
    private void Prepare(LwtRequest lwt, IQuorumHost host)
    {
        if (lwt.Round >= _config.Lwt.RoundsMax)
        {
            FinishLwt(lwt, ReplyStatus.Timeout, [], $"no ballot won in {lwt.Round} rounds", host);
            return;
        }

        lwt.Round++;
        _lastBallot = Ballot.Above(Ballot.Max(_lastBallot, lwt.HighestSeen), _hlc.Now(), Self);
        lwt.Ballot = _lastBallot;
        // Persisted before the prepares leave, so a restarted node never reuses a ballot it already sent.
        host.WriteDurable(LastBallotKey, _lastBallot);
        Broadcast(lwt, LwtPhase.Preparing, new PaxosPrepare(lwt.Id, lwt.Round, lwt.Request.Key, lwt.Ballot, _config.Lwt.ReadInPrepare), host);
    }

    private void OnPaxosPromise(NodeId from, PaxosPromise promise, IQuorumHost host)
    {
        if (Current(promise.RequestId, promise.Round, LwtPhase.Preparing, from) is not { } lwt)
        {
            return;
        }

        if (!promise.Promised)
        {
            lwt.HighestSeen = Ballot.Max(lwt.HighestSeen, promise.PromisedBallot);
            lwt.Refusals++;
            if (lwt.Refusals > lwt.Replicas.Count - Majority(lwt))
            {
                Contended(lwt, host); // a higher ballot holds a majority: back off, then outbid it
            }

            return;
        }

        lwt.Promises.Add(from, promise);
        if (lwt.Promises.Count == Majority(lwt))
        {
            OnPromiseQuorum(lwt, host);
        }
    }

    private void OnPromiseQuorum(LwtRequest lwt, IQuorumHost host)
    {
        Proposal? inProgress = lwt.Promises.Values.Select(p => p.InProgress).OfType<Proposal>().MaxBy(p => p.Ballot);
        Proposal? latestCommit = lwt.Promises.Values.Select(p => p.MostRecentCommit).OfType<Proposal>().MaxBy(p => p.Ballot);

        // The repair rule: a proposal accepted after the latest commit any promiser knows may have
        // been chosen by a majority (its coordinator may have crashed or timed out before committing).
        // Paxos lets this ballot propose only that value, so finish it first, then start over.
        if (inProgress is not null && (latestCommit is null || inProgress.Ballot > latestCommit.Ballot) && !_config.Lwt.UnsafeSkipInProgressRepair)
        {
            Stats.LwtInProgressRepairs++;
            Propose(lwt, LwtPhase.RepairProposing, new Proposal(lwt.Ballot, inProgress.Value), host);
            return;
        }

        if (latestCommit is not null)
        {
            var behind = lwt.Promises.Where(p => p.Value.MostRecentCommit?.Ballot != latestCommit.Ballot).Select(p => p.Key).ToList();
            foreach (NodeId replica in behind)
            {
                host.Send(replica, new PaxosCommit(lwt.Id, lwt.Round, lwt.Request.Key, latestCommit));
            }

            if (behind.Count > 0 && !_config.Lwt.ReadInPrepare)
            {
                // The separate read may ask other replicas than these promisers; it sees the latest
                // commit only once a majority holds it. Cassandra re-prepares after sending it.
                Prepare(lwt, host);
                return;
            }
        }

        if (_config.Lwt.ReadInPrepare)
        {
            // Every promiser's value includes its most recent commit, so the merge includes the latest.
            Decide(lwt, MergeAll(lwt.Promises.Values.Select(p => p.Value)), host);
            return;
        }

        Broadcast(lwt, LwtPhase.Reading, new PaxosRead(lwt.Id, lwt.Round, lwt.Request.Key), host);
    }

    private void OnPaxosReadReply(NodeId from, PaxosReadReply reply, IQuorumHost host)
    {
        if (Current(reply.RequestId, reply.Round, LwtPhase.Reading, from) is not { } lwt)
        {
            return;
        }

        lwt.ReadValues.Add(reply.Value);
        if (lwt.ReadValues.Count == Majority(lwt))
        {
            Decide(lwt, MergeAll(lwt.ReadValues), host);
        }
    }

    /// <summary>With the current value in hand: answer a read or a failed compare, or propose the new value.</summary>
    private void Decide(LwtRequest lwt, StoredValue? current, IQuorumHost host)
    {
        var cell = (LwwValue?)current;
        ImmutableArray<long> values = current?.Values ?? [];
        ClientRequest request = lwt.Request;
        if (request.Kind == OperationKind.SerialRead)
        {
            FinishLwt(lwt, ReplyStatus.Ok, values, null, host);
            return;
        }

        bool matches = request.Expected is { } expected ? cell?.Value == expected : cell is null;
        if (!matches)
        {
            // Nothing proposed: the compare is linearized at the read, which saw every chosen value.
            FinishLwt(lwt, ReplyStatus.CompareFailed, values, "current value differs", host);
            return;
        }

        Propose(lwt, LwtPhase.Proposing, new Proposal(lwt.Ballot, request.Value), host);
    }

    private void Propose(LwtRequest lwt, LwtPhase phase, Proposal proposal, IQuorumHost host)
    {
        lwt.Proposal = proposal;
        Broadcast(lwt, phase, new PaxosPropose(lwt.Id, lwt.Round, lwt.Request.Key, proposal), host);
    }

    private void OnPaxosAcceptReply(NodeId from, PaxosAcceptReply reply, IQuorumHost host)
    {
        if ((Current(reply.RequestId, reply.Round, LwtPhase.Proposing, from) ?? Current(reply.RequestId, reply.Round, LwtPhase.RepairProposing, from)) is not { } lwt)
        {
            return;
        }

        if (reply.Accepted)
        {
            lwt.Accepts++;
        }
        else
        {
            lwt.Refusals++;
            lwt.HighestSeen = Ballot.Max(lwt.HighestSeen, reply.PromisedBallot);
        }

        int needed = _config.Lwt.UnsafeMinorityAccept ? 1 : Majority(lwt);
        if (lwt.Accepts == needed)
        {
            Broadcast(lwt, lwt.Phase == LwtPhase.Proposing ? LwtPhase.Committing : LwtPhase.RepairCommitting,
                new PaxosCommit(lwt.Id, lwt.Round, lwt.Request.Key, lwt.Proposal!), host);
            return;
        }

        int unanswered = lwt.Replicas.Count - lwt.Answered.Count;
        if (lwt.Accepts + unanswered >= needed)
        {
            return; // a majority may still accept
        }

        if (lwt.Phase == LwtPhase.RepairProposing || (lwt.Accepts == 0 && unanswered == 0))
        {
            // Pre-empted, and no replica holds our client's value: retrying cannot apply it twice.
            Contended(lwt, host);
        }
        else if (lwt.Accepts > 0)
        {
            // Some replica accepted our value: a later coordinator may find it in progress and finish
            // it, or not. Retrying could apply it twice, answering CompareFailed could be a lie.
            FinishLwt(lwt, ReplyStatus.Timeout, [], $"proposal accepted by {lwt.Accepts} of {lwt.Replicas.Count} replicas, pre-empted by a higher ballot", host);
        }
    }

    private void OnPaxosCommitAck(NodeId from, PaxosCommitAck ack, IQuorumHost host)
    {
        if ((Current(ack.RequestId, ack.Round, LwtPhase.Committing, from) ?? Current(ack.RequestId, ack.Round, LwtPhase.RepairCommitting, from)) is not { } lwt)
        {
            return;
        }

        lwt.Acks++;
        if (lwt.Acks < Majority(lwt))
        {
            return;
        }

        if (lwt.Phase == LwtPhase.Committing)
        {
            FinishLwt(lwt, ReplyStatus.Ok, [], null, host);
        }
        else
        {
            Prepare(lwt, host); // the repaired proposal is committed; now our own round, with a new ballot
        }
    }

    /// <summary>A ballot conflict: wait a random, growing time, then prepare again (or give up after the last round).</summary>
    private void Contended(LwtRequest lwt, IQuorumHost host)
    {
        Stats.LwtContentionRetries++;
        if (lwt.Round >= _config.Lwt.RoundsMax)
        {
            FinishLwt(lwt, ReplyStatus.Timeout, [], $"contended: no ballot won in {lwt.Round} rounds", host);
            return;
        }

        lwt.BeginPhase(LwtPhase.BackingOff);
        lwt.Backoffs++;
        long ceilingUs = _config.Lwt.BackoffUsMax << Math.Min(lwt.Backoffs - 1, 4);
        host.SetTimer(1 + (long)_random.NextUInt64((ulong)ceilingUs), Tag(TimerKind.LwtBackoff, lwt.Id));
    }

    private void OnLwtBackoff(long id, IQuorumHost host)
    {
        if (_lwt.TryGetValue(id, out LwtRequest? lwt) && lwt.Phase == LwtPhase.BackingOff)
        {
            Prepare(lwt, host);
        }
    }

    private void OnLwtTimeout(long id, IQuorumHost host)
    {
        if (_lwt.TryGetValue(id, out LwtRequest? lwt))
        {
            FinishLwt(lwt, ReplyStatus.Timeout, [], $"no answer within {_config.Lwt.RequestTimeoutUs} µs (phase {lwt.Phase}, round {lwt.Round})", host);
        }
    }

    private void FinishLwt(LwtRequest lwt, ReplyStatus status, ImmutableArray<long> values, string? detail, IQuorumHost host)
    {
        Invariant.Assert(_lwt.Remove(lwt.Id));
        if (status == ReplyStatus.Timeout)
        {
            Stats.Timeouts++;
        }

        host.Send(lwt.Request.Client, new ClientReply(lwt.Request.RequestId, status, values, null, detail));
    }

    /// <summary>Starts a phase: one request/response exchange with every replica of the key.</summary>
    private void Broadcast(LwtRequest lwt, LwtPhase phase, QuorumMessage message, IQuorumHost host)
    {
        lwt.BeginPhase(phase);
        Stats.LwtRoundTrips++;
        foreach (NodeId replica in lwt.Replicas)
        {
            host.Send(replica, message); // to itself too: the simulator delivers that at once and never loses it
        }
    }

    /// <summary>The request a reply belongs to, if it is for the current round and phase and is the sender's first answer in it.</summary>
    private LwtRequest? Current(long requestId, int round, LwtPhase phase, NodeId from) =>
        _lwt.TryGetValue(requestId, out LwtRequest? lwt) && lwt.Round == round && lwt.Phase == phase
            && lwt.Replicas.Contains(from) && lwt.Answered.Add(from)
            ? lwt
            : null;

    private static int Majority(LwtRequest lwt) => (lwt.Replicas.Count / 2) + 1;

    private static StoredValue? MergeAll(IEnumerable<StoredValue?> values) =>
        values.Aggregate((StoredValue?)null, (merged, v) => v is null ? merged : merged is null ? v : merged.Merge(v));

    /// <summary>A coordinator's state for one lightweight transaction, across its rounds.</summary>
    private sealed class LwtRequest(long id, ClientRequest request, IReadOnlyList<NodeId> replicas)
    {
        public long Id { get; } = id;

        public ClientRequest Request { get; } = request;

        public IReadOnlyList<NodeId> Replicas { get; } = replicas;

        public int Round { get; set; }

        public LwtPhase Phase { get; private set; }

        public Ballot Ballot { get; set; }

        /// <summary>The highest ballot a replica reported promising: the next ballot must exceed it.</summary>
        public Ballot HighestSeen { get; set; }

        public int Backoffs { get; set; }

        /// <summary>What the current propose or commit phase sends.</summary>
        public Proposal? Proposal { get; set; }

        /// <summary>Replicas that answered in the current phase (a duplicated answer counts once).</summary>
        public HashSet<NodeId> Answered { get; } = [];

        public Dictionary<NodeId, PaxosPromise> Promises { get; } = [];

        public List<StoredValue?> ReadValues { get; } = [];

        public int Refusals { get; set; }

        public int Accepts { get; set; }

        public int Acks { get; set; }

        public void BeginPhase(LwtPhase phase)
        {
            Phase = phase;
            Answered.Clear();
            Promises.Clear();
            ReadValues.Clear();
            Refusals = 0;
            Accepts = 0;
            Acks = 0;
        }
    }
}
