using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Concord.Experiments.Quorum;

namespace Concord.Cli.Commands;

/// <summary>
/// <c>concord sim</c>: experiments on the deterministic simulator. Every run prints its seed and
/// trace hash; the same seed and options replay it exactly (same hash).
/// </summary>
internal static class SimCommands
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Build(TextWriter output, TextWriter error)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var seed = new Option<ulong>("--seed") { Description = "Root seed of the run (one seed replays a run exactly)", DefaultValueFactory = _ => 1 };
        var ops = CliOptions.IntegerInRange("--ops", 1, 200_000, "Operations per run");

        var ns = new Option<int[]>("--n")
        {
            Description = "Replication factors to sweep, comma-separated (1–6)",
            DefaultValueFactory = _ => [3, 5],
            CustomParser = result =>
            {
                var text = string.Join(',', result.Tokens.Select(t => t.Value));
                var values = new List<int>();
                foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 6)
                    {
                        result.AddError($"--n takes replication factors between 1 and 6 separated by commas, such as 3,5; not '{text}'.");
                        return [];
                    }
                    values.Add(n);
                }
                return [.. values.Distinct()];
            },
        };
        var noPartition = new Option<bool>("--no-partition") { Description = "Skip the runs with a region partition" };
        var sweepQuorum = new Command("quorum", "Every (R, W) for each N, with and without a region partition: latency, availability, stale reads, lost writes, linearizability")
        {
            ns, ops, seed, noPartition, json,
        };
        sweepQuorum.SetAction(parse =>
        {
            var options = new QuorumSweepOptions
            {
                ReplicationFactors = parse.GetValue(ns)!,
                OperationsPerPoint = parse.GetValue(ops) ?? 2_000,
                Seed = parse.GetValue(seed),
                IncludePartition = !parse.GetValue(noPartition),
            };
            var asJson = parse.GetValue(json);
            if (!asJson)
            {
                output.WriteLine($"{"N",2} {"R",2} {"W",2} {"part",4} {"overlap",7} {"read p50/p95/p99 ms",22} {"write p50/p95/p99 ms",22} {"unavail%",8} {"stale%",7} {"lost",4} {"linearizable",16} {"messages",9}");
            }
            var rows = QuorumSweep.Run(options, row =>
            {
                if (!asJson)
                {
                    output.WriteLine(FormatRow(row));
                }
            });
            if (asJson)
            {
                output.WriteLine(JsonSerializer.Serialize(new { seed = options.Seed, rows }, Json));
            }
            else
            {
                output.WriteLine($"seed={options.Seed}: replay with `concord sim sweep quorum --seed {options.Seed}` and the same options.");
            }
            return ExitCodes.Success;
        });

        var n = CliOptions.IntegerInRange("--n", 1, 6, "Replicas per key");
        var r = CliOptions.IntegerInRange("--r", 1, 6, "Replicas a read waits for");
        var w = CliOptions.IntegerInRange("--w", 1, 6, "Replicas a write waits for");
        var partition = new Option<bool>("--partition") { Description = "Partition the two regions for part of the run" };
        var runQuorum = new Command("quorum", "One run of the quorum store at (N, R, W): the checkers' findings and the trace hash")
        {
            n, r, w, partition, ops, seed, json,
        };
        runQuorum.SetAction(parse =>
        {
            var (nn, rr, ww) = (parse.GetValue(n) ?? 3, parse.GetValue(r) ?? 2, parse.GetValue(w) ?? 2);
            if (rr > nn || ww > nn)
            {
                throw new UsageException($"--r and --w cannot exceed --n ({nn}).");
            }
            var options = new QuorumSweepOptions { ReplicationFactors = [nn], OperationsPerPoint = parse.GetValue(ops) ?? 2_000, Seed = parse.GetValue(seed) };
            var run = QuorumRun.Execute(QuorumSweep.RunOptions(options, nn, rr, ww, parse.GetValue(partition)));
            var row = QuorumSweep.Summarize(run, nn, rr, ww, parse.GetValue(partition), options.LinearizabilityStepsMax);
            var traceHash = run.TraceHash.ToString("x16", CultureInfo.InvariantCulture);
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { trace_hash = traceHash, row }, Json));
            }
            else
            {
                output.WriteLine(FormatRow(row));
                output.WriteLine($"seed={row.Seed} trace={traceHash}: the same command replays this run exactly.");
            }
            return row.StaleReads > 0 || row.LostWrites > 0 ? ExitCodes.Violation : ExitCodes.Success;
        });

        return new Command("sim", "Experiments on the deterministic simulator")
        {
            new Command("sweep", "Sweep a protocol's settings") { sweepQuorum },
            new Command("run", "One simulated run") { runQuorum },
        };
    }

    static string FormatRow(QuorumSweepRow row) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{row.N,2} {row.R,2} {row.W,2} {(row.RegionPartition ? "yes" : "no"),4} {(row.QuorumsOverlap ? "R+W>N" : "-"),7} " +
            $"{$"{row.Read.P50Ms:0.0}/{row.Read.P95Ms:0.0}/{row.Read.P99Ms:0.0}",22} {$"{row.Write.P50Ms:0.0}/{row.Write.P95Ms:0.0}/{row.Write.P99Ms:0.0}",22} " +
            $"{row.UnavailablePercent,8:0.00} {100 * row.StaleReadRate,7:0.00} {row.LostWrites,4} {row.Linearizability,16} {row.MessagesSent,9}");
}
