using System.Diagnostics;
using Concord.Checkers.Histories.Formats;
using Concord.Checkers.Linearizability;
using Concord.Experiments.Quorum;
using Concord.Simulation;

namespace Concord.Cli.Bench;

/// <summary><c>concord bench sim</c> and <c>concord bench checker</c>: the simulator's and the linearizability checker's speed.</summary>
internal static class ModelBench
{
    public static Dictionary<string, object> Simulator(int messages)
    {
        // Median of three runs: the first also pays for JIT.
        var runs = Enumerable.Range(0, 3).Select(_ => SimulatorBenchmark.MeasureMessagesPerSecond(messages, TimeProvider.System)).ToList();

        var pointOptions = new QuorumSweepOptions { OperationsPerPoint = 10_000 };
        QuorumSweep.TimePoint(pointOptions, 3, 2, 2, regionPartition: false, TimeProvider.System); // warm-up
        var point = Enumerable.Range(0, 3)
            .Select(_ => QuorumSweep.TimePoint(pointOptions, 3, 2, 2, regionPartition: false, TimeProvider.System).Elapsed.TotalMilliseconds)
            .ToList();

        var sweepStart = Stopwatch.GetTimestamp();
        var rows = QuorumSweep.Run(new QuorumSweepOptions());
        var sweepMs = Stopwatch.GetElapsedTime(sweepStart).TotalMilliseconds;

        return new Dictionary<string, object>
        {
            ["messages_per_run"] = messages,
            ["messages_per_second"] = Math.Round(Measure.Median(runs)),
            ["target_messages_per_second_min"] = 1_000_000,
            ["quorum_point_10000_ops_ms_median_of_3"] = Math.Round(Measure.Median(point), 1),
            ["target_quorum_point_ms_max"] = 1_000,
            ["quorum_default_sweep_points"] = rows.Count,
            ["quorum_default_sweep_ms"] = Math.Round(sweepMs, 1),
            ["target_quorum_default_sweep_ms_max"] = 30_000,
        };
    }

    /// <summary>Checks every recorded history under <paramref name="directory"/> (the Jepsen etcd and kv sets) and times it.</summary>
    public static Dictionary<string, object> Checker(DirectoryInfo directory)
    {
        var files = directory.Exists
            ? directory.EnumerateFiles("*", SearchOption.AllDirectories).Where(f => f.Extension is ".log" or ".txt" && f.Name != "VERDICTS.txt")
                .OrderBy(f => f.FullName, StringComparer.Ordinal).ToList()
            : [];
        if (files.Count == 0)
        {
            throw new UsageException($"No recorded histories under {directory.FullName}; pass --histories DIR (the repository keeps them in tests/Concord.Checkers.Tests/TestData).");
        }

        var histories = files.Select(f =>
        {
            using var reader = f.OpenText();
            return HistoryReader.Read(reader, f.Name);
        }).ToList();
        var models = histories.Select(Models.Infer).ToList();

        var rounds = new List<double>();
        var verdicts = new Dictionary<string, int>();
        long steps = 0;
        for (var round = 0; round < 3; round++)
        {
            verdicts.Clear();
            steps = 0;
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < histories.Count; i++)
            {
                var result = LinearizabilityChecker.Check(histories[i], models[i]);
                steps += result.Steps;
                var verdict = result.Verdict.ToString();
                verdicts[verdict] = verdicts.GetValueOrDefault(verdict) + 1;
            }
            rounds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return new Dictionary<string, object>
        {
            ["histories"] = histories.Count,
            ["operations"] = histories.Sum(h => h.Operations.Count),
            ["search_steps"] = steps,
            ["verdicts"] = verdicts,
            ["first_run_ms_with_jit"] = Math.Round(rounds[0], 1),
            ["total_ms_median_of_3"] = Math.Round(Measure.Median(rounds), 1),
        };
    }
}
