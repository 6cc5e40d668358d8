using Concord.Core;
using Concord.Simulation.Faults;
using Concord.Simulation.History;
using Concord.Simulation.Network;
using Concord.Simulation.Nodes;
using Concord.Simulation.Tracing;

namespace Concord.Simulation.Tests;

internal abstract record GossipMessage;

internal sealed record Rumor(uint Origin, long Version) : GossipMessage;

internal sealed record Request(long Id) : GossipMessage;

internal sealed record Reply(long Id, long Known) : GossipMessage;

/// <summary>
/// A nontrivial workload for determinism tests: servers gossip versioned rumors (persisting their own
/// version), clients send requests to random servers and record a history with timeouts.
/// </summary>
internal static class GossipWorkload
{
    public const long ClientTimeoutUs = 150_000;

    public static SimulationConfig Config(ulong seed, long durationUs = 3_000_000) => new()
    {
        Seed = seed,
        Topology = Topology.Create(regions: 2, serversPerRegion: 3, clientsPerRegion: 1),
        Network = NetworkConfig.Default.WithAllLinks(link => link with { LossProbability = 0.01, DuplicateProbability = 0.01, TailProbability = 0.01 }),
        RandomFaults = RandomFaultConfig.Moderate with
        {
            HorizonUs = durationUs,
            RegionPartitionsPerSecond = 0.5,
            NodeIsolationsPerSecond = 0.5,
            OneWayPartitionsPerSecond = 0.5,
            CrashesPerSecond = 1,
            PausesPerSecond = 1,
            SlowNodesPerSecond = 0.5,
            ClockJumpsPerSecond = 0.5,
            FaultDurationUsMax = 1_000_000,
        },
    };

    public static Simulator<GossipMessage> Create(
        SimulationConfig config,
        HistoryRecorder<long, long>? history = null,
        TextWriter? trace = null,
        Func<NodeInfo, INode<GossipMessage>>? serverFactory = null)
    {
        history ??= new HistoryRecorder<long, long>();
        Func<NodeInfo, INode<GossipMessage>> servers = serverFactory ?? (_ => new GossipServer());
        return new Simulator<GossipMessage>(
            config,
            info => info.Role == NodeRole.Server ? servers(info) : new Client(history),
            new TraceOptions<GossipMessage> { Writer = trace, Fingerprint = TraceFingerprint.OfText });
    }

    public static ulong RunAndHash(ulong seed) => RunAndHash(seed, serverFactory: null);

    public static ulong RunAndHash(ulong seed, Func<NodeInfo, INode<GossipMessage>>? serverFactory)
    {
        SimulationConfig config = Config(seed);
        Simulator<GossipMessage> simulator = Create(config, serverFactory: serverFactory);
        simulator.RunUntil(3_000_000);
        return simulator.TraceHash;
    }

    public static NodeId RandomServer<T>(NodeContext<T> context, bool excludeSelf = true)
    {
        IReadOnlyList<NodeId> servers = context.Topology.Servers;
        while (true)
        {
            NodeId pick = servers[context.Random.NextInt(servers.Count)];
            if (!excludeSelf || pick != context.Self)
            {
                return pick;
            }
        }
    }

    internal sealed class GossipServer : INode<GossipMessage>
    {
        private readonly Dictionary<uint, long> _known = [];
        private long _version;

        public void Start(NodeContext<GossipMessage> context) => context.SetTimer(1_000 + context.Random.NextInt(4_000));

        public void OnRestart(DurableState durable, NodeContext<GossipMessage> context)
        {
            _version = durable.GetOrDefault("version", 0L);
            Start(context);
        }

        public void OnTimer(TimerId timer, long tag, NodeContext<GossipMessage> context)
        {
            _version++;
            context.WriteDurable("version", _version);
            for (int i = 0; i < 2; i++)
            {
                context.Send(RandomServer(context), new Rumor(context.Self.Value, _version));
            }

            context.SetTimer(2_000 + context.Random.NextInt(6_000));
        }

        public void OnMessage(NodeId from, GossipMessage message, NodeContext<GossipMessage> context)
        {
            switch (message)
            {
                case Rumor rumor when rumor.Version > _known.GetValueOrDefault(rumor.Origin):
                    _known[rumor.Origin] = rumor.Version;
                    if (context.Random.NextBool(0.5))
                    {
                        context.Send(RandomServer(context), rumor);
                    }

                    break;
                case Request request:
                    context.Send(from, new Reply(request.Id, _known.Values.Sum()));
                    break;
            }
        }
    }

    /// <summary>One request at a time; a reply completes it Ok, a timeout completes it Info and switches to a fresh process.</summary>
    internal sealed class Client(HistoryRecorder<long, long> history) : INode<GossipMessage>
    {
        private const long NextRequestTag = 1;
        private const long TimeoutTag = 2;

        private int _process = -1;
        private long _nextRequest;
        private (long Id, OperationHandle Handle, TimerId Timeout)? _pending;

        public void Start(NodeContext<GossipMessage> context)
        {
            _process = history.NewProcess();
            context.SetTimer(5_000, NextRequestTag);
        }

        public void OnRestart(DurableState durable, NodeContext<GossipMessage> context) => Start(context);

        public void OnTimer(TimerId timer, long tag, NodeContext<GossipMessage> context)
        {
            if (tag == NextRequestTag)
            {
                long id = (context.Self.Value * 1_000_000L) + _nextRequest++;
                OperationHandle handle = history.Invoke(context, _process, id);
                _pending = (id, handle, context.SetTimer(ClientTimeoutUs, TimeoutTag));
                context.Send(RandomServer(context, excludeSelf: false), new Request(id));
            }
            else if (_pending is { } pending)
            {
                history.Complete(context, pending.Handle, CompletionType.Info);
                _pending = null;
                _process = history.NewProcess();
                context.SetTimer(5_000, NextRequestTag);
            }
        }

        public void OnMessage(NodeId from, GossipMessage message, NodeContext<GossipMessage> context)
        {
            if (message is Reply reply && _pending is { } pending && pending.Id == reply.Id)
            {
                context.CancelTimer(pending.Timeout);
                history.Complete(context, pending.Handle, CompletionType.Ok, reply.Known);
                _pending = null;
                context.SetTimer(5_000, NextRequestTag);
            }
        }
    }
}
