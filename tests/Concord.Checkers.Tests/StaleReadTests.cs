using Concord.Checkers.Histories;
using Concord.Checkers.Staleness;

namespace Concord.Checkers.Tests;

public class StaleReadTests
{
    private static OperationValue V(long value) => OperationValue.Of(value);

    /// <summary>
    /// A register history (times in microseconds) built to contain exactly four stale reads:
    /// the reads at 40, 70, 140 and 146. The reads at 80, 100, 160 and 170 are fresh, including
    /// one concurrent with a write and one that sees a timed-out write.
    /// </summary>
    private static History RegisterHistory(bool withStaleReads) => new HistoryBuilder(HistoryTimeUnit.Microseconds)
        .Invoke(0, "write", V(1), time: 0).Ok(0, time: 10)
        .Invoke(0, "write", V(2), time: 20).Ok(0, time: 30)
        .Invoke(1, "read", time: 40).Ok(1, withStaleReads ? V(1) : V(2), time: 45)
        .Invoke(0, "write", V(3), time: 50).Ok(0, time: 60)
        .Invoke(1, "read", time: 70).Ok(1, withStaleReads ? V(1) : V(3), time: 75)
        .Invoke(1, "read", time: 80).Ok(1, V(3), time: 85)
        .Invoke(0, "write", V(4), time: 90)
        .Invoke(1, "read", time: 100).Ok(1, V(3), time: 105)
        .Ok(0, time: 130)
        .Invoke(1, "read", time: 140).Ok(1, withStaleReads ? V(2) : V(4), time: 145)
        .Invoke(2, "read", time: 146).Ok(2, withStaleReads ? OperationValue.Nil : V(4), time: 147)
        .Invoke(0, "write", V(9), time: 150).Info(0, time: 155)
        .Invoke(1, "read", time: 160).Ok(1, V(9), time: 165)
        .Invoke(2, "read", time: 170).Ok(2, V(4), time: 175)
        .Build();

    [Fact]
    public void Finds_exactly_the_stale_reads_with_versions_and_milliseconds()
    {
        var history = RegisterHistory(withStaleReads: true);

        var report = StaleReadChecker.Check(history);

        Assert.Equal(8, report.ReadCount);
        Assert.Equal([40L, 70L, 140L, 146L], report.StaleReads.Select(s => s.Read.InvokeTime));
        Assert.Equal([1, 2, 2, 4], report.StaleReads.Select(s => s.VersionsBehind));
        Assert.Equal([0.010, 0.040, 0.080, 0.136], report.StaleReads.Select(s => s.StalenessMs!.Value), new ToleranceComparer(1e-9));
        Assert.Null(report.StaleReads[3].SourceWrite); // it read the initial nil
        Assert.Equal(0.5, report.StaleRate);
        Assert.Equal(4, report.MaxVersionsBehind);
        Assert.Empty(report.UnexplainedReads);
        Assert.StartsWith("4 stale read(s) of 8 (50.00%)", report.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Fresh_reads_are_not_reported()
    {
        var report = StaleReadChecker.Check(RegisterHistory(withStaleReads: false));

        Assert.Equal(8, report.ReadCount);
        Assert.Empty(report.StaleReads);
        Assert.Equal(0, report.StaleRate);
    }

    [Fact]
    public void Append_reads_that_miss_acknowledged_appends_are_stale()
    {
        var history = new HistoryBuilder(HistoryTimeUnit.Milliseconds)
            .Invoke(0, "append", OperationValue.Of("a1;"), key: "k", time: 0).Ok(0, time: 10)
            .Invoke(0, "append", OperationValue.Of("a2;"), key: "k", time: 20).Ok(0, time: 30)
            .Invoke(1, "get", key: "k", time: 40).Ok(1, OperationValue.Of("a1;"), time: 50)
            .Invoke(1, "get", key: "k", time: 60).Ok(1, OperationValue.Of("a1;a2;"), time: 70)
            .Invoke(1, "get", key: "k", time: 80).Ok(1, OperationValue.Of(""), time: 90)
            .Invoke(1, "get", key: "other", time: 91).Ok(1, OperationValue.Nil, time: 92)
            .Build();

        var report = StaleReadChecker.Check(history);

        Assert.Equal(4, report.ReadCount);
        Assert.Equal([(40L, 1, 10.0), (80L, 2, 70.0)], report.StaleReads.Select(s => (s.Read.InvokeTime, s.VersionsBehind, s.StalenessMs!.Value)));
    }

    [Fact]
    public void Reads_of_values_no_write_wrote_are_unexplained_not_stale()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Ok(0)
            .Invoke(1, "read").Ok(1, V(77))
            .Build();

        var report = StaleReadChecker.Check(history);

        Assert.Empty(report.StaleReads);
        Assert.Equal(V(77), report.UnexplainedReads.Single().Output);
    }

    [Fact]
    public void Sequence_times_have_no_milliseconds()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Ok(0)
            .Invoke(0, "write", V(2)).Ok(0)
            .Invoke(1, "read").Ok(1, V(1))
            .Build();

        var stale = StaleReadChecker.Check(history).StaleReads.Single();

        Assert.Null(stale.StalenessMs);
        Assert.Equal(1, stale.Staleness);
    }

    [Fact]
    public void Needs_unique_written_values()
    {
        var history = TestHistories.ReadEtcd("etcd_000.log");

        var error = Assert.Throws<ArgumentException>(() => StaleReadChecker.Check(history));

        Assert.Contains("unique value", error.Message, StringComparison.Ordinal);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
