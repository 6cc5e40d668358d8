using Concord.Experiments.Quorum;

namespace Concord.Experiments.Tests;

/// <summary>
/// Measurements, not assertions (timings vary by machine). Run explicitly, in Release:
/// dotnet test tests/Concord.Experiments.Tests -c Release -- --explicit only
/// </summary>
public sealed class SweepTimings(ITestOutputHelper output)
{
    [Fact(Explicit = true)]
    public void Time_one_10k_point_and_the_default_sweep()
    {
        var point = new QuorumSweepOptions { OperationsPerPoint = 10_000 };
        QuorumSweep.TimePoint(point, 3, 2, 2, false, TimeProvider.System); // warm-up: JIT
        foreach ((int n, int r, int w, bool p) in new[] { (3, 2, 2, false), (3, 1, 1, false), (5, 3, 3, true), (5, 1, 5, false) })
        {
            (QuorumSweepRow row, TimeSpan elapsed) = QuorumSweep.TimePoint(point, n, r, w, p, TimeProvider.System);
            output.WriteLine($"10k point N={n} R={r} W={w} partition={p}: {elapsed.TotalMilliseconds:F0} ms wall, {row.MessagesSent} messages, {row.Linearizability}");
        }

        long start = TimeProvider.System.GetTimestamp();
        IReadOnlyList<QuorumSweepRow> rows = QuorumSweep.Run(new QuorumSweepOptions());
        output.WriteLine($"default sweep: {rows.Count} points in {TimeProvider.System.GetElapsedTime(start).TotalSeconds:F1} s wall");
        foreach (QuorumSweepRow row in rows)
        {
            output.WriteLine($"N={row.N} R={row.R} W={row.W} part={row.RegionPartition,-5} read p50/p99={row.Read.P50Ms}/{row.Read.P99Ms} write p50/p99={row.Write.P50Ms}/{row.Write.P99Ms} unavail={row.UnavailablePercent}% stale={row.StaleReadRate} lost={row.LostWrites} {row.Linearizability} msgs={row.MessagesSent}");
        }
    }
}
