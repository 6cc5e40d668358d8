using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;
using Concord.Checkers.Staleness;
using Concord.Core;
using Concord.Experiments.Quorum;
using Concord.Replication.Quorum;
using Concord.Simulation.Faults;
using Concord.Simulation.History;

namespace Concord.Experiments.Tests;

/// <summary>The quorum store on the simulator, judged by the checkers over many seeds.</summary>
public sealed class QuorumSimulationTests(ITestOutputHelper output)
{
    /// <summary>Crashes, pauses and partitions, but every clock exact.</summary>
    private static readonly RandomFaultConfig CrashesAndPartitions = new()
    {
        HorizonUs = 3_000_000,
        RegionPartitionsPerSecond = 0.3,
        NodeIsolationsPerSecond = 0.3,
        OneWayPartitionsPerSecond = 0.2,
        CrashesPerSecond = 0.5,
        PausesPerSecond = 0.3,
        SlowNodesPerSecond = 0.2,
        FaultDurationUsMax = 1_000_000,
    };

    private static QuorumRunOptions Short(ulong seed, int r, int w, int operations = 150) => new()
    {
        Seed = seed,
        Workload = new QuorumWorkloadOptions
        {
            OperationCount = operations,
            KeyCount = 5,
            ReadConsistency = Consistency.Of(r),
            WriteConsistency = Consistency.Of(w),
        },
    };

    [Fact]
    public void Overlapping_quorums_give_no_stale_reads_over_100_seeds_with_crashes_and_partitions()
    {
        int reads = 0, faults = 0, timeouts = 0;
        for (ulong seed = 1; seed <= 100; seed++)
        {
            QuorumRunResult run = QuorumRun.Execute(Short(seed, 2, 2) with { RandomFaults = CrashesAndPartitions });
            StaleReadReport stale = StaleReadChecker.Check(run.History);
            Assert.True(stale.StaleCount == 0, $"seed={seed}: {stale.Describe()}");
            reads += stale.ReadCount;
            faults += run.FaultPlan.Count;
            timeouts += run.Entries.Count(e => e.Completion == CompletionType.Info);
        }

        output.WriteLine($"reads={reads} faults={faults} timeouts={timeouts}");
        Assert.True(faults > 100 && timeouts > 0, "the faults must bite, or this proves nothing");
    }

    [Fact]
    public void R1_W1_reads_are_stale_in_most_seeds()
    {
        int staleSeeds = 0;
        for (ulong seed = 1; seed <= 20; seed++)
        {
            if (StaleReadChecker.Check(QuorumRun.Execute(Short(seed, 1, 1, 300)).History).StaleCount > 0)
            {
                staleSeeds++;
            }
        }

        output.WriteLine($"{staleSeeds} of 20 seeds had stale reads");
        Assert.True(staleSeeds > 10, $"only {staleSeeds} of 20 seeds");
    }

    private static QuorumRunOptions SkewedBlindWrites(ulong seed, VersionMode mode) => new()
    {
        Seed = seed,
        Protocol = new QuorumConfig { Versioning = mode },
        // Region eu's servers run 200 ms behind (more than the HLC's 50 ms bound, so they refuse to
        // absorb us timestamps): an eu write that follows a us write in real time gets a smaller timestamp.
        Faults = [.. Enumerable.Range(0, 3).Select(i => ScheduledFault.From(0, new ClockFault(new NodeId((uint)i), -200_000, 0)))],
        // Long think times let both regions write each key up to the end, so the final value is often
        // a us write that eu writes followed in real time but lost to on timestamps.
        Workload = new QuorumWorkloadOptions { OperationCount = 200, KeyCount = 2, ReadFraction = 0, ThinkTimeUsMax = 200_000 },
    };

    [Fact]
    public void Clock_skew_makes_LWW_discard_acknowledged_writes_that_DVV_siblings_keep()
    {
        int lwwLost = 0;
        for (ulong seed = 1; seed <= 5; seed++)
        {
            QuorumRunResult lww = QuorumRun.Execute(SkewedBlindWrites(seed, VersionMode.LastWriteWins));
            LostWriteReport report = LostWriteChecker.Check(lww.History, lww.FinalValues);
            lwwLost += report.LostCount;
            if (report.LostCount > 0 && seed == 1)
            {
                output.WriteLine($"seed={seed}: {report.Describe()}");
            }

            // Same seed, same skew, dotted version vectors: blind writes are concurrent, so every
            // acknowledged value must still be a sibling once replicas converge.
            QuorumRunResult dvv = QuorumRun.Execute(SkewedBlindWrites(seed, VersionMode.DottedVersionVectors));
            IReadOnlyDictionary<string, StoredValue> final = dvv.ConvergedStates;
            var missing = dvv.Entries
                .Where(e => e.Completion == CompletionType.Ok && e.Operation.Kind == OperationKind.Write)
                .Where(e => !final[e.Operation.Key].Values.Contains(e.Operation.Value))
                .ToList();
            Assert.True(missing.Count == 0, $"seed={seed}: DVV lost {string.Join(", ", missing)}");
        }

        output.WriteLine($"LWW lost {lwwLost} acknowledged writes over 5 seeds");
        Assert.True(lwwLost > 0);
    }

    [Fact]
    public void Without_skew_LWW_loses_nothing_negative_control()
    {
        QuorumRunOptions options = SkewedBlindWrites(1, VersionMode.LastWriteWins) with { Faults = [] };
        QuorumRunResult run = QuorumRun.Execute(options);
        Assert.Equal(0, LostWriteChecker.Check(run.History, run.FinalValues).LostCount);
    }

    [Fact]
    public void Quorum_compare_and_set_under_contention_is_not_linearizable()
    {
        ulong? failing = null;
        for (ulong seed = 1; seed <= 10 && failing is null; seed++)
        {
            QuorumRunResult run = QuorumRun.Execute(new QuorumRunOptions
            {
                Seed = seed,
                Workload = new QuorumWorkloadOptions { OperationCount = 200, KeyCount = 1, ReadFraction = 0.3, CasFraction = 0.6 },
            });
            LinearizabilityResult result = LinearizabilityChecker.Check(run.History, Models.CasRegister, new CheckBudget { MaxSteps = 5_000_000 });
            if (result.Verdict == LinearizabilityVerdict.NotLinearizable)
            {
                failing = seed;
                output.WriteLine($"seed={seed} (replay: QuorumRun.Execute with Seed = {seed})");
                output.WriteLine(result.Describe());
            }
        }

        Assert.NotNull(failing);
    }

    [Fact]
    public void Same_seed_gives_the_same_trace_hash()
    {
        QuorumRunOptions options = Short(42, 2, 2, 300) with { RandomFaults = CrashesAndPartitions };
        ulong first = QuorumRun.Execute(options).TraceHash;
        Assert.Equal(first, QuorumRun.Execute(options).TraceHash);
        Assert.NotEqual(first, QuorumRun.Execute(options with { Seed = 43 }).TraceHash);
    }

    private static QuorumRunOptions Diverging(QuorumConfig protocol) => new()
    {
        Seed = 7,
        Protocol = protocol,
        // W = 1 and one server down until after the last write: it misses writes unless something repairs them.
        Faults = [new ScheduledFault(10_000, 1_000_000, new CrashFault(new NodeId(2)))],
        Workload = new QuorumWorkloadOptions { OperationCount = 1_000, KeyCount = 20, ReadFraction = 0, WriteConsistency = Consistency.One },
        QuiesceUs = 3_000_000,
    };

    [Fact]
    public void Hinted_handoff_delivers_after_heal()
    {
        var protocol = new QuorumConfig { ReadRepair = false, AntiEntropyIntervalUs = 0, HintedHandoff = true };
        QuorumRunResult run = QuorumRun.Execute(Diverging(protocol));
        output.WriteLine(run.ServerStats.ToString());
        Assert.True(run.ServerStats.HintsDelivered > 0);
        Assert.Empty(run.DivergentKeys);

        QuorumRunResult control = QuorumRun.Execute(Diverging(protocol with { HintedHandoff = false }));
        Assert.NotEmpty(control.DivergentKeys);
    }

    [Fact]
    public void Anti_entropy_converges_diverged_replicas()
    {
        var protocol = new QuorumConfig { ReadRepair = false, HintedHandoff = false, AntiEntropyIntervalUs = 300_000 };
        QuorumRunResult run = QuorumRun.Execute(Diverging(protocol));
        output.WriteLine(run.ServerStats.ToString());
        Assert.True(run.ServerStats.KeysRepairedByAntiEntropy > 0);
        Assert.Empty(run.DivergentKeys);

        QuorumRunResult control = QuorumRun.Execute(Diverging(protocol with { AntiEntropyIntervalUs = 0 }));
        Assert.NotEmpty(control.DivergentKeys);
    }

    [Fact]
    public void Sloppy_quorum_keeps_writes_available_through_a_region_partition()
    {
        QuorumRunOptions Options(bool sloppy) => new()
        {
            Seed = 3,
            Protocol = new QuorumConfig { SloppyQuorum = sloppy },
            RegionPartition = true,
            Workload = new QuorumWorkloadOptions { OperationCount = 600, ReadFraction = 0, WriteConsistency = Consistency.All },
        };
        int Unanswered(QuorumRunResult run) => run.Entries.Count(e => e.Completion != CompletionType.Ok);
        QuorumRunResult strict = QuorumRun.Execute(Options(false));
        QuorumRunResult sloppy = QuorumRun.Execute(Options(true));
        output.WriteLine($"unanswered: strict={Unanswered(strict)} sloppy={Unanswered(sloppy)}; {sloppy.ServerStats}");
        Assert.True(Unanswered(sloppy) < Unanswered(strict));
        Assert.True(sloppy.ServerStats.FallbacksUsed > 0);
        Assert.Empty(sloppy.DivergentKeys);
    }

    [Fact]
    public void Crdt_counters_count_every_acknowledged_increment_through_partitions()
    {
        QuorumRunResult run = QuorumRun.Execute(new QuorumRunOptions
        {
            Seed = 11,
            Protocol = new QuorumConfig { Versioning = VersionMode.Crdt },
            RegionPartition = true,
            Workload = new QuorumWorkloadOptions { OperationCount = 400, KeyCount = 4, ReadFraction = 0.2, WriteConsistency = Consistency.One },
        });
        Assert.Empty(run.DivergentKeys);
        foreach (string key in run.ReplicaStates.Keys)
        {
            var increments = run.Entries.Where(e => e.Operation.Key == key && e.Operation.Kind == OperationKind.Increment).ToList();
            int acknowledged = increments.Count(e => e.Completion == CompletionType.Ok);
            int maybe = increments.Count(e => e.Completion != CompletionType.Ok && e.Completion != CompletionType.Fail);
            long final = run.ConvergedStates.TryGetValue(key, out StoredValue? v) ? v.Values[0] : 0;
            Assert.InRange(final, acknowledged, acknowledged + maybe);
        }
    }

    [Fact]
    public void Sweep_rows_cover_every_R_and_W_and_serialize_to_json()
    {
        IReadOnlyList<QuorumSweepRow> rows = QuorumSweep.Run(new QuorumSweepOptions { ReplicationFactors = [3], OperationsPerPoint = 200 });
        Assert.Equal(18, rows.Count);
        Assert.All(rows.Where(r => r.QuorumsOverlap), r => Assert.Equal(0, r.StaleReads));
        Assert.Contains(rows, r => r.R == 1 && r.W == 1 && r.StaleReads > 0);
        string json = System.Text.Json.JsonSerializer.Serialize(rows[0]);
        output.WriteLine(json);
        Assert.Contains("\"P95Ms\"", json, StringComparison.Ordinal);
    }
}
