using Concord.Checkers.Histories;
using Concord.Checkers.Staleness;

namespace Concord.Checkers.Tests;

public class LostWriteTests
{
    private static OperationValue V(long value) => OperationValue.Of(value);

    /// <summary>Ten acknowledged appends v0..v9 on key "k", plus a timed-out and a failed one.</summary>
    private static History AppendHistory()
    {
        var builder = new HistoryBuilder();
        for (var i = 0; i < 10; i++)
        {
            builder.Invoke(i % 3, "append", OperationValue.Of($"v{i};"), key: "k").Ok(i % 3);
        }

        return builder
            .Invoke(5, "append", OperationValue.Of("maybe;"), key: "k").Info(5)
            .Invoke(6, "append", OperationValue.Of("never;"), key: "k").Fail(6)
            .Build();
    }

    private static string Concat(params int[] indexes) => string.Concat(indexes.Select(i => $"v{i};"));

    [Fact]
    public void Finds_exactly_the_appends_missing_from_the_final_value()
    {
        var final = new Dictionary<string, OperationValue> { ["k"] = OperationValue.Of(Concat(0, 1, 3, 4, 6, 8, 9)) };

        var report = LostWriteChecker.Check(AppendHistory(), final);

        Assert.Equal(10, report.AcknowledgedWriteCount);
        Assert.Equal(["v2;", "v5;", "v7;"], report.LostWrites.Select(l => l.Write.Input.Text));
        Assert.Equal(0.3, report.LostRate, 9);
    }

    [Fact]
    public void Final_value_with_every_acknowledged_append_loses_nothing()
    {
        var final = new Dictionary<string, OperationValue> { ["k"] = OperationValue.Of(Concat(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)) };

        var report = LostWriteChecker.Check(AppendHistory(), final);

        Assert.Empty(report.LostWrites);
        Assert.Empty(report.KeysWithUnexplainedFinalValue);
    }

    [Fact]
    public void Truncated_final_value_loses_the_appends_after_its_last()
    {
        var final = new Dictionary<string, OperationValue> { ["k"] = OperationValue.Of(Concat(0, 1, 2, 3, 4, 5, 6)) };

        var report = LostWriteChecker.Check(AppendHistory(), final);

        Assert.Equal(["v7;", "v8;", "v9;"], report.LostWrites.Select(l => l.Write.Input.Text));
    }

    /// <summary>Sequential writes 1..5, and a write of 33 concurrent with the write of 3.</summary>
    private static History RegisterHistory() => new HistoryBuilder()
        .Invoke(0, "write", V(1)).Ok(0)
        .Invoke(0, "write", V(2)).Ok(0)
        .Invoke(0, "write", V(3))
        .Invoke(1, "write", V(33)).Ok(1)
        .Ok(0)
        .Invoke(0, "write", V(4)).Ok(0)
        .Invoke(0, "write", V(5)).Ok(0)
        .Build();

    [Fact]
    public void Register_loses_the_writes_that_followed_the_final_value()
    {
        var report = LostWriteChecker.Check(RegisterHistory(), V(3));

        Assert.Equal(6, report.AcknowledgedWriteCount);
        Assert.Equal([4L, 5L], report.LostWrites.Select(l => l.Write.Input.Integer));
    }

    [Fact]
    public void Register_ending_with_the_last_write_loses_nothing()
    {
        Assert.Empty(LostWriteChecker.Check(RegisterHistory(), V(5)).LostWrites);
    }

    [Fact]
    public void Register_back_at_its_initial_value_lost_every_acknowledged_write()
    {
        Assert.Equal(6, LostWriteChecker.Check(RegisterHistory(), OperationValue.Nil).LostCount);
    }

    [Fact]
    public void Final_value_no_write_wrote_is_reported_not_attributed()
    {
        var report = LostWriteChecker.Check(RegisterHistory(), V(99));

        Assert.Equal([(string?)null], report.KeysWithUnexplainedFinalValue);
        Assert.Empty(report.LostWrites);
    }

    [Fact]
    public void Put_after_an_append_legitimately_erases_it()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "append", OperationValue.Of("a;"), key: "k").Ok(0)
            .Invoke(0, "put", OperationValue.Of("p;"), key: "k").Ok(0)
            .Invoke(0, "append", OperationValue.Of("b;"), key: "k").Ok(0)
            .Build();

        var kept = LostWriteChecker.Check(history, new Dictionary<string, OperationValue> { ["k"] = OperationValue.Of("p;b;") });
        var lost = LostWriteChecker.Check(history, new Dictionary<string, OperationValue> { ["k"] = OperationValue.Of("p;") });

        Assert.Empty(kept.LostWrites);
        Assert.Equal("b;", lost.LostWrites.Single().Write.Input.Text);
    }

    [Fact]
    public void Keyless_history_needs_the_single_value_overload()
    {
        Assert.Throws<ArgumentException>(() => LostWriteChecker.Check(RegisterHistory(), new Dictionary<string, OperationValue>()));
        Assert.Throws<ArgumentException>(() => LostWriteChecker.Check(AppendHistory(), OperationValue.Nil));
    }
}
