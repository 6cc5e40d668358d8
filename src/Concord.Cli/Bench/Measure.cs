using System.Diagnostics;

namespace Concord.Cli.Bench;

/// <summary>
/// Wall-clock measurement for the quick benches: repeat an operation in rounds of at least a fixed
/// duration and report the median round, so one slow round (a GC, the other core busy) does not
/// decide the number. Baselines are measured in the same run, interleaved round by round.
/// </summary>
internal static class Measure
{
    /// <summary>Median operations per second over <paramref name="rounds"/> rounds of at least <paramref name="roundDuration"/>.</summary>
    public static double OpsPerSecond(Func<long> runBatch, TimeSpan roundDuration, int rounds = 5) =>
        Median(Rounds(runBatch, roundDuration, rounds));

    /// <summary>Measures several operations interleaved (a, b, a, b, …) and returns each one's median ops/s.</summary>
    public static double[] Interleaved(IReadOnlyList<Func<long>> batches, TimeSpan roundDuration, int rounds = 5)
    {
        var samples = batches.Select(_ => new List<double>()).ToArray();
        foreach (var batch in batches)
        {
            batch(); // warm up: JIT, caches
        }
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < batches.Count; i++)
            {
                samples[i].Add(Rounds(batches[i], roundDuration, 1)[0]);
            }
        }
        return [.. samples.Select(Median)];
    }

    static List<double> Rounds(Func<long> runBatch, TimeSpan roundDuration, int rounds)
    {
        var results = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            long operations = 0;
            var start = Stopwatch.GetTimestamp();
            TimeSpan elapsed;
            do
            {
                operations += runBatch();
                elapsed = Stopwatch.GetElapsedTime(start);
            }
            while (elapsed < roundDuration);
            results.Add(operations / elapsed.TotalSeconds);
        }
        return results;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The q-quantile (0–1) of a sample by the nearest-rank method.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
