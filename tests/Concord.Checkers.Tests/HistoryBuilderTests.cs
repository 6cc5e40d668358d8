using Concord.Checkers.Histories;

namespace Concord.Checkers.Tests;

public class HistoryBuilderTests
{
    [Fact]
    public void Pairs_each_invoke_with_its_process_next_completion()
    {
        var history = new HistoryBuilder(HistoryTimeUnit.Microseconds)
            .Invoke(0, "write", OperationValue.Of(1), time: 10)
            .Invoke(1, "read", time: 11)
            .Ok(1, OperationValue.Of(1), time: 12)
            .Info(0, time: 20)
            .Invoke(0, "read", time: 21)
            .Build();

        Assert.Equal(5, history.Events.Count);
        Assert.Equal([0, 1, 2], history.Operations.Select(o => o.Id));
        Assert.Equal([OperationOutcome.Info, OperationOutcome.Ok, OperationOutcome.Pending], history.Operations.Select(o => o.Outcome));
        Assert.True(history.Operations[0].IsIndeterminate);
        Assert.Equal(20, history.Operations[0].CompleteTime);
        Assert.Equal(OperationValue.Of(1), history.Operations[1].Output);
    }

    [Fact]
    public void Ok_without_a_value_echoes_the_input_as_jepsen_records_writes()
    {
        var history = new HistoryBuilder().Invoke(0, "write", OperationValue.Of(7)).Ok(0).Build();

        Assert.Equal(OperationValue.Of(7), history.Operations[0].Output);
    }

    [Fact]
    public void Rejects_what_no_client_can_produce()
    {
        Assert.Throws<InvalidOperationException>(() => new HistoryBuilder().Ok(0));
        Assert.Throws<InvalidOperationException>(() => new HistoryBuilder().Invoke(0, "read").Invoke(0, "read"));
        Assert.Throws<InvalidOperationException>(() => new HistoryBuilder().Invoke(0, "read", time: 5).Ok(0, time: 4));
        var builder = new HistoryBuilder();
        builder.Build();
        Assert.Throws<InvalidOperationException>(() => builder.Build());
    }

    [Fact]
    public void Values_compare_structurally_and_print_as_edn()
    {
        var list = OperationValue.ListOf(OperationValue.Of(1), OperationValue.Nil, OperationValue.Of("a\"b"));

        Assert.Equal(OperationValue.ListOf(OperationValue.Of(1), OperationValue.Nil, OperationValue.Of("a\"b")), list);
        Assert.Equal(list.GetHashCode(), OperationValue.ListOf(OperationValue.Of(1), OperationValue.Nil, OperationValue.Of("a\"b")).GetHashCode());
        Assert.NotEqual(OperationValue.Of(1), OperationValue.Of("1"));
        Assert.Equal("[1 nil \"a\\\"b\"]", list.ToString());
    }
}
