using Concord.Checkers.Linearizability;

namespace Concord.Checkers.Tests;

/// <summary>A checker is trusted only when it agrees with known verdicts, true and false (Porcupine's test style).</summary>
public class RecordedHistoryTests(ITestOutputHelper output)
{
    public static TheoryData<string> EtcdFiles => new(TestHistories.EtcdFiles);

    public static TheoryData<string> KvFiles => new(TestHistories.KvFiles);

    [Theory]
    [MemberData(nameof(EtcdFiles))]
    public void Etcd_history_gets_its_known_verdict(string file)
    {
        var history = TestHistories.ReadEtcd(file);

        var result = LinearizabilityChecker.Check(history, Models.CasRegister);

        var expected = TestHistories.EtcdVerdicts[file] ? LinearizabilityVerdict.Linearizable : LinearizabilityVerdict.NotLinearizable;
        Assert.Equal(expected, result.Verdict);
        Assert.Equal(expected == LinearizabilityVerdict.NotLinearizable, result.Violation is not null);
    }

    [Theory]
    [MemberData(nameof(KvFiles))]
    public void Kv_history_gets_its_known_verdict(string file)
    {
        var history = TestHistories.ReadKv(file);

        var result = LinearizabilityChecker.Check(history, Models.KeyValue);

        var expected = TestHistories.KvIsLinearizable(file) ? LinearizabilityVerdict.Linearizable : LinearizabilityVerdict.NotLinearizable;
        Assert.Equal(expected, result.Verdict);
    }

    [Fact]
    public void All_recorded_histories_check_within_seconds()
    {
        var clock = TimeProvider.System;
        var readStart = clock.GetTimestamp();
        var histories = TestHistories.EtcdFiles.Select(f => (History: TestHistories.ReadEtcd(f), Model: (Model)Models.CasRegister))
            .Concat(TestHistories.KvFiles.Select(f => (History: TestHistories.ReadKv(f), Model: (Model)Models.KeyValue)))
            .ToList();
        var readTime = clock.GetElapsedTime(readStart);

        var checkStart = clock.GetTimestamp();
        var steps = 0L;
        foreach (var (history, model) in histories)
        {
            var result = LinearizabilityChecker.Check(history, model);
            Assert.NotEqual(LinearizabilityVerdict.Unknown, result.Verdict);
            steps += result.Steps;
        }

        var checkTime = clock.GetElapsedTime(checkStart);
        var operations = histories.Sum(h => h.History.Operations.Count);
        output.WriteLine(
            $"{histories.Count} histories, {operations} operations: read in {readTime.TotalMilliseconds:F0} ms, " +
            $"checked in {checkTime.TotalMilliseconds:F0} ms ({steps} steps)");
        Assert.True(checkTime < TimeSpan.FromSeconds(10), $"took {checkTime}");
    }
}
