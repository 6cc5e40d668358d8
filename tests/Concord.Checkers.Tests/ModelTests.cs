using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;

namespace Concord.Checkers.Tests;

public class ModelTests
{
    private static OperationValue V(long value) => OperationValue.Of(value);

    private static OperationValue S(string value) => OperationValue.Of(value);

    private static LinearizabilityVerdict Check(HistoryBuilder builder, Model model) =>
        LinearizabilityChecker.Check(builder.Build(), model).Verdict;

    [Fact]
    public void Register_reads_the_last_write_and_starts_nil()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "read").Ok(0, OperationValue.Nil)
            .Invoke(0, "write", V(3)).Ok(0)
            .Invoke(1, "read").Ok(1, V(3));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history, Models.Register));
    }

    [Fact]
    public void Register_rejects_reading_an_overwritten_value()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Ok(0)
            .Invoke(0, "write", V(2)).Ok(0)
            .Invoke(1, "read").Ok(1, V(1));

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history, Models.Register));
    }

    [Fact]
    public void Register_allows_either_order_of_concurrent_writes()
    {
        // p0 and p1 write concurrently; both later reads agree on p0's value, so p1 went first.
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1))
            .Invoke(1, "write", V(2))
            .Ok(1).Ok(0)
            .Invoke(2, "read").Ok(2, V(1))
            .Invoke(3, "read").Ok(3, V(1));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history, Models.Register));
    }

    [Fact]
    public void Register_rejects_two_readers_seeing_concurrent_writes_in_opposite_orders()
    {
        // Reads are sequential: 1 then 2 then 1 again needs the writes in two orders at once.
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1))
            .Invoke(1, "write", V(2))
            .Ok(1).Ok(0)
            .Invoke(2, "read").Ok(2, V(1))
            .Invoke(2, "read").Ok(2, V(2))
            .Invoke(2, "read").Ok(2, V(1));

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history, Models.Register));
    }

    [Fact]
    public void Register_model_does_not_accept_cas()
    {
        var history = new HistoryBuilder().Invoke(0, "cas", OperationValue.ListOf(V(1), V(2))).Ok(0).Build();

        var error = Assert.Throws<ModelMismatchException>(() => LinearizabilityChecker.Check(history, Models.Register));

        Assert.Contains("cas-register", error.Message, StringComparison.Ordinal);
        Assert.Equal("register", error.ModelName);
    }

    [Fact]
    public void Model_mismatch_in_a_file_names_file_and_line()
    {
        var history = TestHistories.ReadEtcd("etcd_000.log");

        var error = Assert.Throws<ModelMismatchException>(() => LinearizabilityChecker.Check(history, Models.KeyValue));

        Assert.StartsWith("etcd_000.log:1: operation #0 p0 read", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("the kv model has no function 'read' (expected get, put or append)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cas_register_applies_a_matching_cas()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Ok(0)
            .Invoke(0, "cas", OperationValue.ListOf(V(1), V(4))).Ok(0)
            .Invoke(1, "read").Ok(1, V(4));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history, Models.CasRegister));
    }

    [Fact]
    public void Cas_register_rejects_an_acknowledged_cas_that_could_not_match()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Ok(0)
            .Invoke(0, "cas", OperationValue.ListOf(V(2), V(4))).Ok(0);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history, Models.CasRegister));
    }

    [Fact]
    public void Cas_register_needs_a_two_element_cas_input()
    {
        var history = new HistoryBuilder().Invoke(0, "cas", V(1)).Ok(0).Build();

        Assert.Throws<ModelMismatchException>(() => LinearizabilityChecker.Check(history, Models.CasRegister));
    }

    [Fact]
    public void Kv_get_put_and_append_per_key()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "get", key: "a").Ok(0, S(""))
            .Invoke(0, "put", S("x"), key: "a").Ok(0)
            .Invoke(1, "append", S("y"), key: "a").Ok(1)
            .Invoke(1, "get", key: "a").Ok(1, S("xy"))
            .Invoke(2, "get", key: "b").Ok(2, OperationValue.Nil);

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history, Models.KeyValue));
    }

    [Fact]
    public void Kv_rejects_a_get_missing_an_acknowledged_append()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "append", S("x"), key: "a").Ok(0)
            .Invoke(1, "append", S("y"), key: "a").Ok(1)
            .Invoke(2, "get", key: "a").Ok(2, S("y"));

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history, Models.KeyValue));
    }

    [Fact]
    public void Kv_model_needs_string_values()
    {
        var history = new HistoryBuilder().Invoke(0, "put", V(1), key: "a").Ok(0).Build();

        var error = Assert.Throws<ModelMismatchException>(() => LinearizabilityChecker.Check(history, Models.KeyValue));

        Assert.Contains("string", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_are_found_by_name_and_inferred_from_functions()
    {
        Assert.Same(Models.KeyValue, Models.ByName("kv"));
        Assert.Same(Models.CasRegister, Models.ByName("cas-register"));
        Assert.Throws<ArgumentException>(() => Models.ByName("queue"));
        Assert.Same(Models.KeyValue, Models.Infer(new HistoryBuilder().Invoke(0, "append", S("x"), key: "k").Build()));
        Assert.Same(Models.CasRegister, Models.Infer(new HistoryBuilder().Invoke(0, "read").Build()));
    }

    [Fact]
    public void Operations_that_touch_in_time_count_as_concurrent()
    {
        // The write completes at time 5 and the read is invoked at 5: either order is allowed.
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1), time: 0).Ok(0, time: 5)
            .Invoke(1, "read", time: 5).Ok(1, OperationValue.Nil, time: 6);

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history, Models.Register));
    }

    [Fact]
    public void Custom_model_as_a_record_of_functions()
    {
        // A counter: "add" adds its input, "read" returns the total.
        var counter = new Model<long, (bool IsAdd, long Value, bool Known)>
        {
            Name = "counter",
            Init = 0,
            Decode = o => (o.Function == "add", o.Function == "add" ? o.Input.Integer : o.IsAcknowledged ? o.Output.Integer : 0, o.IsAcknowledged),
            Step = static (long state, in (bool IsAdd, long Value, bool Known) op, out long next) =>
            {
                next = op.IsAdd ? state + op.Value : state;
                return op.IsAdd || !op.Known || state == op.Value;
            },
        };
        var history = new HistoryBuilder()
            .Invoke(0, "add", V(2))
            .Invoke(1, "add", V(3))
            .Invoke(2, "read").Ok(2, V(3))
            .Ok(0).Ok(1)
            .Invoke(2, "read").Ok(2, V(5));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history, counter));
    }
}
