using System.Globalization;
using Concord.Core;
using Concord.Core.Randomness;
using Concord.Simulation.Faults;
using Concord.Simulation.Nodes;
using Concord.Simulation.Running;
using Concord.Simulation.Tracing;

namespace Concord.Simulation;

/// <summary>
/// A single-threaded discrete-event simulator of <see cref="INode{TMessage}"/> state machines on a
/// network of regions. Time is simulated microseconds; events come off a heap ordered by
/// (time, sequence), so ties keep scheduling order; every random choice derives from
/// <see cref="SimulationConfig.Seed"/>. Same config, same node code → byte-identical trace
/// (<see cref="TraceHash"/>). See README.md for the event loop, node contract and fault model.
/// Not thread-safe; separate simulators share no state and may run on separate threads.
/// </summary>
public sealed partial class Simulator<TMessage>
{
    private readonly Func<NodeInfo, INode<TMessage>> _nodeFactory;
    private readonly SeededRandom _nodeRandomRoot;
    private readonly SimulatedTime _time = new();
    private readonly EventQueue<TMessage> _queue;
    private readonly NodeSlot[] _slots;
    private readonly Trace<TMessage> _trace;

    private long _nextSequence;
    private long _nextTimerId;
    private SimulationFailure? _failure;

    // What the loop is doing, so that a failure can say which node threw on which input.
    private EventKind _currentKind;
    private int _currentNode = -1;
    private int _currentPeer = -1;

    /// <param name="config">Validated here; an invalid config throws <see cref="SimulationConfigException"/> listing every problem.</param>
    /// <param name="nodeFactory">Creates a node's volatile state: at first boot and again at every restart.</param>
    /// <param name="trace">Text trace and message fingerprints; the trace hash is kept either way.</param>
    public Simulator(SimulationConfig config, Func<NodeInfo, INode<TMessage>> nodeFactory, TraceOptions<TMessage>? trace = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(nodeFactory);
        config.Validate();
        Config = config;
        _nodeFactory = nodeFactory;
        _trace = new Trace<TMessage>(trace);
        _queue = new EventQueue<TMessage>(config.EventQueueCapacityMax);

        var root = new SeededRandom(config.Seed);
        _nodeRandomRoot = root.Derive("nodes");
        _networkRandom = root.Derive("network");

        Topology topology = config.Topology;
        _nodeCount = topology.NodeCount;
        _slots = new NodeSlot[_nodeCount];
        for (int i = 0; i < _nodeCount; i++)
        {
            var clock = new NodeClock(_time);
            _slots[i] = new NodeSlot(topology.Nodes[i], clock, new NodeContext<TMessage>(this, topology.Nodes[i], clock, _time, config.EffectsPerHandlerMax));
        }

        _links = CreateLinks(config.Network.Resolve(topology));
        _cuts = new int[_nodeCount * _nodeCount];

        // Faults first: those starting at time 0 (initial clock skew, a node crashed from the start)
        // describe the world the nodes boot into, so they apply before any node starts.
        foreach (ScheduledFault fault in config.Faults)
        {
            AddFault(fault);
        }

        if (config.RandomFaults is { } randomFaults)
        {
            foreach (ScheduledFault fault in randomFaults.Generate(topology, root.Derive("faults")))
            {
                AddFault(fault);
            }
        }

        for (int i = 0; i < _nodeCount; i++)
        {
            Push(new SimEvent<TMessage> { TimeUs = 0, Kind = EventKind.Start, Node = i, Incarnation = -1 });
        }
    }

    public SimulationConfig Config { get; }

    public ulong Seed => Config.Seed;

    public Topology Topology => Config.Topology;

    /// <summary>Simulated time in µs: the time of the event being handled, or the end of the last run call.</summary>
    public long NowUs => _time.NowUs;

    public SimulationStats Stats { get; } = new();

    /// <summary>XxHash3 of the canonical encoding of every traced event so far; equal hashes mean equal runs.</summary>
    public ulong TraceHash => _trace.Hash;

    /// <summary>Every fault of the run, scheduled and random, in the order they were added; print it to see what a seed does.</summary>
    public IReadOnlyList<ScheduledFault> FaultPlan => _faults;

    public int PendingEvents => _queue.Count;

    /// <summary>Handles one event; false when nothing is pending.</summary>
    public bool Step()
    {
        EnsureNotFailed();
        if (_queue.Count == 0)
        {
            return false;
        }

        try
        {
            StepCore();
        }
        catch (Exception exception) when (exception is not SimulationFailure)
        {
            throw Fail(exception);
        }

        return true;
    }

    /// <summary>Handles every event up to and including <paramref name="untilUs"/>, then sets the time to it.</summary>
    public void RunUntil(long untilUs)
    {
        EnsureNotFailed();
        if (untilUs < NowUs)
        {
            throw new ArgumentOutOfRangeException(nameof(untilUs), untilUs, string.Create(CultureInfo.InvariantCulture, $"Time only moves forward; it is {NowUs} µs."));
        }

        try
        {
            while (_queue.Count > 0 && _queue.PeekTimeUs <= untilUs)
            {
                StepCore();
            }
        }
        catch (Exception exception) when (exception is not SimulationFailure)
        {
            throw Fail(exception);
        }

        _time.NowUs = untilUs;
    }

    public void RunFor(long durationUs)
    {
        if (durationUs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(durationUs), durationUs, "A duration must be ≥ 0.");
        }

        RunUntil(checked(NowUs + durationUs));
    }

    /// <summary>
    /// Handles events until <paramref name="done"/> holds (checked after each event) or the next event
    /// lies beyond <paramref name="deadlineUs"/>; returns whether <paramref name="done"/> held. On false
    /// the time is <paramref name="deadlineUs"/>, as after <see cref="RunUntil(long)"/>.
    /// </summary>
    public bool RunUntil(Func<bool> done, long deadlineUs)
    {
        ArgumentNullException.ThrowIfNull(done);
        EnsureNotFailed();
        if (deadlineUs < NowUs)
        {
            throw new ArgumentOutOfRangeException(nameof(deadlineUs), deadlineUs, string.Create(CultureInfo.InvariantCulture, $"Time only moves forward; it is {NowUs} µs."));
        }

        try
        {
            while (!done())
            {
                if (_queue.Count == 0 || _queue.PeekTimeUs > deadlineUs)
                {
                    _time.NowUs = Math.Max(NowUs, deadlineUs);
                    return false;
                }

                StepCore();
            }
        }
        catch (Exception exception) when (exception is not SimulationFailure)
        {
            throw Fail(exception);
        }

        return true;
    }

    /// <summary>Adds a fault while running; it must not start in the past.</summary>
    public void Schedule(ScheduledFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        var errors = new List<string>();
        fault.Validate(Topology, "fault", errors);
        if (fault.StartUs < NowUs)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"fault.StartUs ({fault.StartUs}) is in the past; it is {NowUs} µs."));
        }

        if (errors.Count > 0)
        {
            throw new SimulationConfigException(errors);
        }

        AddFault(fault);
    }

    public bool IsUp(NodeId node) => Slot(node).Up;

    /// <summary>The node's current incarnation (its volatile state), or null while it is down.</summary>
    public TNode? GetNode<TNode>(NodeId node)
        where TNode : class, INode<TMessage> => Slot(node).Node as TNode;

    /// <summary>A snapshot of what the node has written durably (it survives crashes).</summary>
    public DurableState DurableStateOf(NodeId node) => new(Slot(node).Durable);

    /// <summary>The node's clock, as the node sees it.</summary>
    public TimeProvider ClockOf(NodeId node) => Slot(node).Clock;

    /// <summary>A failure at the current simulated time carrying the seed; <c>throw sim.Failure("…")</c> from a checker.</summary>
    public SimulationFailure Failure(string reason) => new(Seed, NowUs, reason);

    internal long NextTimerId() => ++_nextTimerId;

    private void StepCore()
    {
        _queue.Pop(out SimEvent<TMessage> next);
        Invariant.Assert(next.TimeUs >= NowUs);
        _time.NowUs = next.TimeUs;
        Stats.EventsProcessed++;
        _currentKind = next.Kind;
        _currentNode = next.Node;
        _currentPeer = next.Peer;
        switch (next.Kind)
        {
            case EventKind.Deliver:
                Deliver(ref next);
                break;
            case EventKind.Timer:
                FireTimer(ref next);
                break;
            case EventKind.Start:
                // A node crashed from time 0 boots for the first time when that crash heals.
                if (_slots[next.Node].CrashDepth == 0)
                {
                    Boot(_slots[next.Node], restart: false);
                }

                break;
            case EventKind.FaultBegin:
                BeginFault((int)next.Value);
                break;
            case EventKind.FaultEnd:
                EndFault((int)next.Value);
                break;
            default:
                Invariant.Fail("unknown event kind " + next.Kind);
                break;
        }
    }

    private void FireTimer(ref SimEvent<TMessage> timer)
    {
        NodeSlot slot = _slots[timer.Node];
        NodeContext<TMessage> context = slot.Context;

        // A timer dies with the incarnation that set it, and when cancelled.
        if (!slot.Up || timer.Incarnation != context.Incarnation || !context.ArmedTimers.ContainsKey(timer.Value))
        {
            return;
        }

        if (slot.ReadyAtUs > NowUs)
        {
            Defer(slot, ref timer);
            return;
        }

        context.ArmedTimers.Remove(timer.Value, out long tag);
        Stats.TimersFired++;
        _trace.Timer(NowUs, timer.Node, timer.Value, tag);
        context.BeginHandler();
        slot.Node!.OnTimer(new TimerId(timer.Value), tag, context);
        context.EndHandler();
        PerformEffects(slot);
    }

    /// <summary>Postpones an event for a paused or busy node to the moment it is ready, keeping arrival order.</summary>
    private void Defer(NodeSlot slot, ref SimEvent<TMessage> item)
    {
        item.TimeUs = slot.ReadyAtUs;
        item.Incarnation = slot.Context.Incarnation;
        Stats.EventsDeferred++;
        Push(item);
    }

    private void Boot(NodeSlot slot, bool restart)
    {
        Invariant.Assert(!slot.Up);
        NodeContext<TMessage> context = slot.Context;
        if (restart)
        {
            context.Incarnation++;
            Stats.Restarts++;
        }

        context.Random = _nodeRandomRoot.Derive(slot.Info.Id.Value).Derive((ulong)context.Incarnation);
        if (restart)
        {
            // A new process is not paused or busy, whatever the old one was doing.
            slot.ReadyAtUs = NowUs;
        }

        slot.HasBooted = true;
        _currentKind = EventKind.Start;
        _currentNode = (int)slot.Info.Id.Value;
        slot.Node = _nodeFactory(slot.Info) ?? throw new InvalidOperationException($"The node factory returned null for {slot.Info.Id}.");
        slot.Up = true;
        _trace.Node(restart ? TraceKind.Restart : TraceKind.Start, NowUs, (int)slot.Info.Id.Value, context.Incarnation);

        context.BeginHandler();
        if (restart)
        {
            slot.Node.OnRestart(new DurableState(slot.Durable), context);
        }
        else
        {
            slot.Node.Start(context);
        }

        context.EndHandler();
        PerformEffects(slot);
    }

    private void Crash(NodeSlot slot)
    {
        Invariant.Assert(slot.Up);
        slot.Up = false;
        slot.Node = null;
        slot.Context.ArmedTimers.Clear();
        Stats.Crashes++;
        _trace.Node(TraceKind.Crash, NowUs, (int)slot.Info.Id.Value, slot.Context.Incarnation);
    }

    /// <summary>The contract: durable writes, then timers, then messages, each in recorded order.</summary>
    private void PerformEffects(NodeSlot slot)
    {
        NodeContext<TMessage> context = slot.Context;
        Invariant.Assert(!context.InHandler);
        int self = (int)slot.Info.Id.Value;

        // A slow node is busy for its processing delay; what it sends leaves when it is done.
        long departureUs = NowUs + slot.ProcessingDelayUs;
        if (slot.ProcessingDelayUs > 0)
        {
            slot.ReadyAtUs = departureUs;
        }

        foreach (NodeContext<TMessage>.DurableWrite write in context.DurableWrites)
        {
            if (write.Value is null)
            {
                slot.Durable.Remove(write.Key);
                _trace.Durable(TraceKind.DurableDelete, NowUs, self, write.Key);
            }
            else
            {
                slot.Durable[write.Key] = write.Value;
                _trace.Durable(TraceKind.DurableWrite, NowUs, self, write.Key);
            }
        }

        NodeContext<TMessage>.PendingTimer[] timers = context.Timers;
        for (int i = 0; i < context.TimerCount; i++)
        {
            Push(new SimEvent<TMessage>
            {
                TimeUs = NowUs + timers[i].DelaySimUs,
                Kind = EventKind.Timer,
                Node = self,
                Peer = self,
                Value = timers[i].Id,
                Incarnation = context.Incarnation,
            });
        }

        NodeContext<TMessage>.OutgoingMessage[] sends = context.Sends;
        for (int i = 0; i < context.SendCount; i++)
        {
            Send(self, sends[i].To, sends[i].Message, departureUs);
        }

        context.ClearEffects();
    }

    private void Push(in SimEvent<TMessage> item)
    {
        SimEvent<TMessage> stamped = item;
        stamped.Sequence = _nextSequence++;
        _queue.Push(in stamped);
    }

    private NodeSlot Slot(NodeId node) => Topology.Contains(node)
        ? _slots[node.Value]
        : throw new ArgumentOutOfRangeException(nameof(node), node, $"No node {node} in a topology of {Topology.NodeCount} nodes.");

    private void EnsureNotFailed()
    {
        if (_failure is not null)
        {
            throw new InvalidOperationException("The simulation already failed and cannot continue: " + _failure.Message, _failure);
        }
    }

    private SimulationFailure Fail(Exception exception)
    {
        string where = _currentKind switch
        {
            EventKind.Deliver => $"n{_currentNode} failed handling a message from n{_currentPeer}",
            EventKind.Timer => $"n{_currentNode} failed handling a timer",
            EventKind.Start => $"n{_currentNode} failed to boot (Start or OnRestart)",
            _ => "the simulator failed applying a fault",
        };
        if (_currentNode >= 0 && _currentNode < _slots.Length)
        {
            _slots[_currentNode].Context.EndHandler();
        }

        _failure = new SimulationFailure(Seed, NowUs, $"{where}: {exception.GetType().Name}: {exception.Message}", exception);
        return _failure;
    }

    /// <summary>A node's runtime record: the parts that outlive the node object (clock, durable store, crash state).</summary>
    private sealed class NodeSlot(NodeInfo info, NodeClock clock, NodeContext<TMessage> context)
    {
        public NodeInfo Info { get; } = info;

        public NodeClock Clock { get; } = clock;

        public NodeContext<TMessage> Context { get; } = context;

        public SortedDictionary<string, object> Durable { get; } = new(StringComparer.Ordinal);

        public bool HasBooted { get; set; }

        /// <summary>The volatile state; null while crashed.</summary>
        public INode<TMessage>? Node { get; set; }

        public bool Up { get; set; }

        /// <summary>Overlapping crash faults nest; the node restarts when the last one heals.</summary>
        public int CrashDepth { get; set; }

        /// <summary>Events for this node before this time wait (pause, or busy slow node).</summary>
        public long ReadyAtUs { get; set; }

        public long ProcessingDelayUs { get; set; }
    }
}
