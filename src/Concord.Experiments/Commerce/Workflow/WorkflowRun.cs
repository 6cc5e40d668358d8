using System.Globalization;
using Concord.Core;
using Concord.Core.Randomness;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Simulation;
using Concord.Simulation.Faults;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>What one workflow run measured, with the detail the lab's metrics leave out.</summary>
internal sealed record WorkflowOutcome
{
    public required PlatformMetrics Metrics { get; init; }

    /// <summary>Equal for equal (scenario, mapping, seed, settings): the simulator's hash of every event.</summary>
    public required ulong TraceHash { get; init; }

    public required long SimulatedUs { get; init; }

    /// <summary>Crashes injected at crash points (besides the scenario's faults).</summary>
    public required int InjectedCrashes { get; init; }

    /// <summary>Start to completed or compensated, true simulated ms, for the sagas that finished.</summary>
    public required IReadOnlyList<double> SagaLatenciesMs { get; init; }

    /// <summary>Every saga's committed state at the end, from the Orders node's durable rows.</summary>
    public required IReadOnlyList<SagaState<OrderSagaData, OrderCommand>> Sagas { get; init; }

    /// <summary>Inventory's durable rows at the end.</summary>
    public required IReadOnlyDictionary<string, SkuStock> Stock { get; init; }

    public required IReadOnlyDictionary<Guid, StockHold> Holds { get; init; }

    /// <summary>Σ over SKUs of max(0, held + sold − on hand): zero when Inventory's conditional hold does its job.</summary>
    public int OversoldUnits => Stock.Values.Sum(s => Math.Max(0, s.Held + s.Sold - s.OnHand));

    /// <summary>Units still held when the run ended: stranded by a saga that never finished, or held twice by a duplicate.</summary>
    public int HeldUnitsAtEnd => Stock.Values.Sum(s => s.Held);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"lost={Metrics.LostEvents} ghost={Metrics.GhostEvents} duplicates={Metrics.DuplicateEffects} confirmed={Metrics.SagasConfirmed} compensated={Metrics.SagasCompensated} unfinished={Metrics.SagasUnfinished} orders={Metrics.Operations} failed={Metrics.FailedOperations} crashes={InjectedCrashes} held={HeldUnitsAtEnd} oversold={OversoldUnits} sim={SimulatedUs / 1000}ms");
}

/// <summary>
/// The cross-service order workflow on the simulator: customers place orders, the Orders node runs
/// the real order saga (Concord.Messaging), Inventory and Payments execute its commands, under the
/// scenario's topology and faults plus crashes injected right after commits. The mapping's
/// <see cref="ConsistencyMapping.Workflow"/> picks dual write or outbox + inbox. See README.md.
/// </summary>
public static class WorkflowRun
{
    const double TimelineBucketMs = 100;

    /// <summary>Runs one (variant, seed) and fills the workflow's fields of <see cref="PlatformMetrics"/>; the same arguments give the same result.</summary>
    public static PlatformMetrics Execute(PlatformScenario scenario, ConsistencyMapping mapping, ulong seed) =>
        Run(scenario, mapping, seed, WorkflowSettings.Default).Metrics;

    internal static WorkflowOutcome Run(PlatformScenario scenario, ConsistencyMapping mapping, ulong seed, WorkflowSettings settings)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(settings);
        Validate(scenario, settings);
        WorkflowPlatform platform = WorkflowPlatform.From(scenario);

        Simulator<WorkflowMessage>? simulator = null;
        var truth = new WorkflowTruth(
            new SeededRandom(seed).Derive("workflow").Derive("crash-points"),
            settings.CrashAfterCommitProbability,
            () => simulator!.NowUs);
        var world = new WorkflowWorld(mapping.Workflow, settings, platform.Services, scenario.Workload, truth);
        var history = new HistoryRecorder<OrderRequestRecord, bool>();
        var config = new SimulationConfig
        {
            Seed = seed,
            Topology = platform.Topology,
            Network = platform.Network,
            Faults = platform.Faults,
        };
        simulator = new Simulator<WorkflowMessage>(config, info => info.Role == NodeRole.Client
            ? new CustomerNode(world, history)
            : new ServiceNode(world, info.Id));

        long workloadEndUs = scenario.Workload.DurationMs * 1_000;
        int crashes = RunInjectingCrashes(simulator, truth, settings, () => false, workloadEndUs);
        world.CustomersActive = false;

        // Quiesce: every request answered or timed out, every saga finished and, with an outbox,
        // every committed event delivered. A dual write that lost an event never gets there, so it
        // runs to the end of the quiesce period, which outlasts the saga's deadlines and retries.
        bool outbox = mapping.Workflow == WorkflowMode.Outbox;
        crashes += RunInjectingCrashes(
            simulator,
            truth,
            settings,
            () => history.PendingCount == 0 && truth.OpenSagas == 0 && (!outbox || truth.CommittedUndelivered == 0),
            workloadEndUs + settings.QuiesceUsMax);
        return Measure(simulator, platform.Services, history, truth, crashes);
    }

    /// <summary>Runs until <paramref name="done"/> or the deadline, crashing each node that drew a crash at a crash point, right then.</summary>
    static int RunInjectingCrashes(Simulator<WorkflowMessage> simulator, WorkflowTruth truth, WorkflowSettings settings, Func<bool> done, long deadlineUs)
    {
        int crashes = 0;
        while (simulator.RunUntil(() => truth.CrashRequested || done(), deadlineUs) && truth.CrashRequested)
        {
            while (truth.CrashRequested)
            {
                NodeId node = truth.TakeCrashRequest();
                long downtimeUs = truth.NextCrashDowntimeUs(settings.CrashDowntimeUsMin, settings.CrashDowntimeUsMax);
                if (simulator.IsUp(node))
                {
                    // Scheduled now, after the handler that committed: before the publish step, which is at least PublishDelayUs away.
                    simulator.Schedule(new ScheduledFault(simulator.NowUs, simulator.NowUs + downtimeUs, new CrashFault(node)));
                    crashes++;
                }
            }
        }

        return crashes;
    }

    static WorkflowOutcome Measure(
        Simulator<WorkflowMessage> simulator,
        ServiceDirectory services,
        HistoryRecorder<OrderRequestRecord, bool> history,
        WorkflowTruth truth,
        int crashes)
    {
        // The final word is what the services committed, read from their durable rows.
        DurableState orders = simulator.DurableStateOf(services.Orders);
        DurableState inventory = simulator.DurableStateOf(services.Inventory);
        SagaState<OrderSagaData, OrderCommand>[] sagas = [.. orders.WithPrefix("saga/").Select(row => ((SagaRecord)row.Value).State)];
        var stock = inventory.WithPrefix("sku/").ToDictionary(row => row.Key["sku/".Length..], row => (SkuStock)row.Value, StringComparer.Ordinal);
        var holds = inventory.WithPrefix("hold/").ToDictionary(row => Guid.ParseExact(row.Key["hold/".Length..], "N"), row => (StockHold)row.Value);

        IReadOnlyList<HistoryEntry<OrderRequestRecord, bool>> requests = history.Entries;
        var metrics = new PlatformMetrics
        {
            LostEvents = truth.LostEvents,
            GhostEvents = truth.GhostEvents,
            DuplicateEffects = truth.DuplicateEffects,
            SagasConfirmed = sagas.Count(s => s.Status == SagaStatus.Completed),
            SagasCompensated = sagas.Count(s => s.Status == SagaStatus.Compensated),
            SagasUnfinished = sagas.Count(s => !s.IsTerminal),
            Operations = requests.Count,
            FailedOperations = requests.Count(e => e.Completion != CompletionType.Ok),
            WriteLatenciesMs = new Dictionary<Service, IReadOnlyList<double>>
            {
                [Service.Orders] = [.. requests.Where(e => e.Completion == CompletionType.Ok).Select(e => (e.CompleteUs!.Value - e.InvokeUs) / 1_000.0)],
            },
            Timeline = Timeline(requests),
        };
        return new WorkflowOutcome
        {
            Metrics = metrics,
            TraceHash = simulator.TraceHash,
            SimulatedUs = simulator.NowUs,
            InjectedCrashes = crashes,
            SagaLatenciesMs = [.. truth.Sagas.Values.Where(t => t.EndUs is not null).Select(t => (t.EndUs!.Value - t.StartUs) / 1_000.0)],
            Sagas = sagas,
            Stock = stock,
            Holds = holds,
        };
    }

    /// <summary>Order requests by completion time in 100 ms buckets; a request that never completed counts as failed at the end.</summary>
    static TimelineBucket[] Timeline(IReadOnlyList<HistoryEntry<OrderRequestRecord, bool>> requests)
    {
        if (requests.Count == 0)
        {
            return [];
        }

        long endUs = requests.Max(e => e.CompleteUs ?? e.InvokeUs);
        int buckets = (int)(endUs / 1_000 / TimelineBucketMs) + 1;
        int[] acknowledged = new int[buckets];
        int[] failed = new int[buckets];
        foreach (HistoryEntry<OrderRequestRecord, bool> entry in requests)
        {
            int bucket = (int)((entry.CompleteUs ?? endUs) / 1_000 / TimelineBucketMs);
            if (entry.Completion == CompletionType.Ok)
            {
                acknowledged[bucket]++;
            }
            else
            {
                failed[bucket]++;
            }
        }

        return [.. Enumerable.Range(0, buckets).Select(b => new TimelineBucket(b * TimelineBucketMs, acknowledged[b], failed[b], 0))];
    }

    static void Validate(PlatformScenario scenario, WorkflowSettings settings)
    {
        var problems = new List<string>(settings.Problems());
        PlatformWorkload workload = scenario.Workload;
        if (workload.Skus < 1 || workload.HotSkus < 0 || workload.HotSkus > workload.Skus)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"workload: 1 <= skus ({workload.Skus}) and 0 <= hotSkus ({workload.HotSkus}) <= skus required."));
        }

        if (workload.HotStock < 0 || workload.Stock < 0)
        {
            problems.Add("workload: stock and hotStock must be >= 0.");
        }

        if (workload.DurationMs < 1 || workload.RequestTimeoutMs < 1 || workload.ThinkTimeMs < 0)
        {
            problems.Add("workload: durationMs and requestTimeoutMs must be >= 1 and thinkTimeMs >= 0.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"Scenario '{scenario.Name}' cannot run the workflow: " + string.Join(" ", problems), nameof(scenario));
        }
    }
}
