using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;
using Microsoft.Extensions.Time.Testing;

namespace Concord.Checkers.Tests;

public class PartitionAndBudgetTests
{
    private static OperationValue S(string value) => OperationValue.Of(value);

    [Fact]
    public void Keys_are_checked_separately_and_the_violating_key_is_reported()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "put", S("a1"), key: "a").Ok(0)
            .Invoke(1, "put", S("b1"), key: "b").Ok(1)
            .Invoke(0, "get", key: "a").Ok(0, S("a1"))
            .Invoke(1, "get", key: "b").Ok(1, S("a1"))
            .Build();

        var result = LinearizabilityChecker.Check(history, Models.KeyValue);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
        Assert.Equal("b", result.Violation!.PartitionKey);
        Assert.Equal([LinearizabilityVerdict.Linearizable, LinearizabilityVerdict.NotLinearizable], result.Partitions.Select(p => p.Verdict));
        Assert.Equal(history.Operations[3], result.Violation.Blocked);
    }

    [Fact]
    public void Registers_with_keys_are_partitioned_too()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", OperationValue.Of(1), key: "x").Ok(0)
            .Invoke(0, "write", OperationValue.Of(2), key: "y").Ok(0)
            .Invoke(1, "read", key: "x").Ok(1, OperationValue.Of(1))
            .Build();

        var result = LinearizabilityChecker.Check(history, Models.Register);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.Equal(["x", "y"], result.Partitions.Select(p => p.Key));
    }

    [Fact]
    public void Exhausted_step_budget_is_unknown_not_linearizable()
    {
        var history = TestHistories.ReadEtcd("etcd_002.log"); // linearizable, needs ~10^5 steps

        var result = LinearizabilityChecker.Check(history, Models.CasRegister, new CheckBudget { MaxSteps = 1000 });

        Assert.Equal(LinearizabilityVerdict.Unknown, result.Verdict);
        Assert.Null(result.Violation);
        Assert.Contains("step budget of 1000", result.UnknownReason, StringComparison.Ordinal);
        Assert.True(result.Steps <= 1000, $"spent {result.Steps} steps");
    }

    [Fact]
    public void Exhausted_step_budget_is_unknown_not_a_violation_either()
    {
        var history = TestHistories.ReadEtcd("etcd_040.log"); // not linearizable, needs ~4*10^4 steps

        var result = LinearizabilityChecker.Check(history, Models.CasRegister, new CheckBudget { MaxSteps = 100 });

        Assert.Equal(LinearizabilityVerdict.Unknown, result.Verdict);
        Assert.Null(result.Violation);
    }

    [Fact]
    public void Exhausted_time_budget_is_unknown()
    {
        var clock = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        var history = TestHistories.ReadEtcd("etcd_002.log");

        var result = LinearizabilityChecker.Check(history, Models.CasRegister, CheckBudget.Within(TimeSpan.FromSeconds(5), clock));

        Assert.Equal(LinearizabilityVerdict.Unknown, result.Verdict);
        Assert.Contains("time budget", result.UnknownReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Time_budget_that_is_not_reached_does_not_change_the_verdict()
    {
        var clock = new FakeTimeProvider();
        var history = TestHistories.ReadEtcd("etcd_002.log");

        var result = LinearizabilityChecker.Check(history, Models.CasRegister, CheckBudget.Within(TimeSpan.FromSeconds(1), clock));

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
    }

    [Fact]
    public void Exhausted_cache_memory_is_unknown_and_other_partitions_are_still_checked()
    {
        var history = TestHistories.ReadKv("c10-ok.txt");

        var result = LinearizabilityChecker.Check(history, Models.KeyValue, new CheckBudget { MaxCacheBytes = 200 });

        Assert.Equal(LinearizabilityVerdict.Unknown, result.Verdict);
        Assert.Contains("cache memory budget", result.UnknownReason, StringComparison.Ordinal);
        Assert.Equal(10, result.Partitions.Count);
    }

    [Fact]
    public void Invalid_budgets_are_rejected_up_front()
    {
        var history = new HistoryBuilder().Build();

        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check(history, Models.Register, new CheckBudget { Time = TimeSpan.FromSeconds(1) }));
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check(history, Models.Register, new CheckBudget { MaxSteps = -1 }));
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check(history, Models.Register, new CheckBudget { MaxCacheBytes = 0 }));
    }

    [Fact]
    public void Empty_history_is_linearizable()
    {
        var result = LinearizabilityChecker.Check(new HistoryBuilder().Build(), Models.Register);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.Empty(result.Partitions);
    }
}
