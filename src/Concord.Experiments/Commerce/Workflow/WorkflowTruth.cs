using Concord.Core;
using Concord.Core.Randomness;
using Concord.Messaging.Sagas;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>
/// Ground truth, kept outside the nodes so that a crash cannot erase it and no node's belief can
/// colour it. Nodes report each publication, commit, delivery and domain effect as it happens (a
/// handler is atomic, so a report made inside one is as durable as the handler's effects); the run
/// reads the counts at the end. It also decides, from its own stream of the root seed, where the
/// injected crashes land.
/// </summary>
internal sealed class WorkflowTruth(SeededRandom crashPoints, double crashAfterCommitProbability, Func<long> simNowUs)
{
    readonly List<Publication> _publications = [];
    readonly Dictionary<string, int> _effects = new(StringComparer.Ordinal);
    readonly Dictionary<string, SagaTimes> _sagas = new(StringComparer.Ordinal);
    readonly Queue<NodeId> _crashRequests = new();
    int _openSagas;
    int _committedUndelivered;

    /// <summary>Sagas whose latest committed state is neither completed nor compensated.</summary>
    public int OpenSagas => _openSagas;

    /// <summary>Committed events not yet at their consumer: zero once an outbox has drained.</summary>
    public int CommittedUndelivered => _committedUndelivered;

    public bool CrashRequested => _crashRequests.Count > 0;

    /// <summary>Committed events that never reached their consumer: the process died before publishing, or the network dropped them and nobody sent them again.</summary>
    public int LostEvents => _publications.Count(p => p.Committed && !p.Delivered);

    /// <summary>Publish, then a COMMIT that never happened: events a consumer acted on for work that does not exist.</summary>
    public int GhostEvents => _publications.Count(p => p.Delivered && !p.Committed);

    /// <summary>Σ over idempotency keys of (times its effect was committed − 1).</summary>
    public int DuplicateEffects => _effects.Values.Sum(count => count - 1);

    /// <summary>True simulated start and end (the first terminal commit) of each saga, in µs.</summary>
    public IReadOnlyDictionary<string, SagaTimes> Sagas => _sagas;

    /// <summary>A message for <paramref name="consumer"/> was handed to the bus; <paramref name="committed"/> when the change that produced it already committed.</summary>
    public int Published(NodeId consumer, bool committed)
    {
        _publications.Add(new Publication(consumer) { Committed = committed });
        _committedUndelivered += committed ? 1 : 0;
        return _publications.Count - 1;
    }

    /// <summary>The change behind a publish-first message committed after all.</summary>
    public void Committed(int publication)
    {
        Publication p = _publications[publication];
        Invariant.Assert(!p.Committed);
        p.Committed = true;
        _committedUndelivered += p.Delivered ? 0 : 1;
    }

    /// <summary>The consumer handled the message (applied it, or recognised it as already applied).</summary>
    public void Delivered(int publication, NodeId consumer)
    {
        Publication p = _publications[publication];
        Invariant.Assert(p.Consumer == consumer, "a message reached a node it was not addressed to");
        _committedUndelivered -= p.Committed && !p.Delivered ? 1 : 0;
        p.Delivered = true;
    }

    /// <summary>A committed change altered domain state on behalf of <paramref name="idempotencyKey"/>.</summary>
    public void Effect(string idempotencyKey)
    {
        _effects[idempotencyKey] = _effects.GetValueOrDefault(idempotencyKey) + 1;
    }

    public void SagaCommitted(string sagaId, SagaStatus status)
    {
        bool terminal = status is SagaStatus.Completed or SagaStatus.Compensated;
        if (!_sagas.TryGetValue(sagaId, out SagaTimes? times))
        {
            times = new SagaTimes(simNowUs());
            _sagas.Add(sagaId, times);
            _openSagas++;
        }

        if (terminal && times.EndUs is null)
        {
            times.EndUs = simNowUs();
            _openSagas--;
        }
    }

    /// <summary>
    /// Called right after a business commit, the moment that matters for dual writes (commit done,
    /// publish not yet, or publish done, commit not yet): with the configured probability, the node
    /// is to crash now.
    /// </summary>
    public void CrashPoint(NodeId node)
    {
        if (crashPoints.NextBool(crashAfterCommitProbability))
        {
            _crashRequests.Enqueue(node);
        }
    }

    public NodeId TakeCrashRequest() => _crashRequests.Dequeue();

    public long NextCrashDowntimeUs(long minUs, long maxUs) => minUs + (long)crashPoints.NextUInt64((ulong)(maxUs - minUs + 1));

    sealed class Publication(NodeId consumer)
    {
        public NodeId Consumer { get; } = consumer;

        public bool Committed { get; set; }

        public bool Delivered { get; set; }
    }

    internal sealed class SagaTimes(long startUs)
    {
        public long StartUs { get; } = startUs;

        public long? EndUs { get; set; }
    }
}
