using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;

namespace Concord.Checkers.Tests;

/// <summary>
/// info and missing completions may take effect at any time after their invoke, or never;
/// fail completions never took effect.
/// </summary>
public class IndeterminateOperationTests
{
    private static OperationValue V(long value) => OperationValue.Of(value);

    private static OperationValue Cas(long expected, long value) => OperationValue.ListOf(V(expected), V(value));

    private static LinearizabilityVerdict Check(HistoryBuilder builder) =>
        LinearizabilityChecker.Check(builder.Build(), Models.CasRegister).Verdict;

    [Fact]
    public void Info_write_that_must_have_taken_effect()
    {
        // Only the timed-out write could have produced the 1 that p1 reads later.
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Info(0)
            .Invoke(1, "read").Ok(1, V(1));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history));
    }

    [Fact]
    public void Info_write_may_take_effect_long_after_it_timed_out()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Info(0)
            .Invoke(1, "read").Ok(1, OperationValue.Nil)
            .Invoke(1, "write", V(2)).Ok(1)
            .Invoke(1, "read").Ok(1, V(2))
            .Invoke(1, "read").Ok(1, V(1));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history));
    }

    [Fact]
    public void Info_cas_that_must_not_have_taken_effect()
    {
        // The cas [0 1] could apply only while the register holds 0; p1's reads pin the register
        // at 0 until its own cas [0 2] succeeds, after which 0 never returns. So the history is
        // linearizable only if the timed-out cas never happened, not even "at the end".
        var history = new HistoryBuilder()
            .Invoke(1, "write", V(0)).Ok(1)
            .Invoke(0, "cas", Cas(0, 1)).Info(0)
            .Invoke(1, "read").Ok(1, V(0))
            .Invoke(1, "cas", Cas(0, 2)).Ok(1)
            .Invoke(1, "read").Ok(1, V(2));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(history));
    }

    [Fact]
    public void Missing_completion_is_indeterminate_like_info()
    {
        var tookEffect = new HistoryBuilder()
            .Invoke(0, "write", V(1))
            .Invoke(1, "read").Ok(1, V(1));
        var neverTookEffect = new HistoryBuilder()
            .Invoke(1, "write", V(0)).Ok(1)
            .Invoke(0, "cas", Cas(0, 1))
            .Invoke(1, "cas", Cas(0, 2)).Ok(1)
            .Invoke(1, "read").Ok(1, V(2));

        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(tookEffect));
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(neverTookEffect));
    }

    [Fact]
    public void Indeterminate_write_cannot_take_effect_before_its_invoke()
    {
        var history = new HistoryBuilder()
            .Invoke(1, "read").Ok(1, V(1))
            .Invoke(0, "write", V(1)).Info(0);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history));
    }

    [Fact]
    public void Failed_write_did_not_take_effect()
    {
        // The control for Info_write_that_must_have_taken_effect: with :fail the read has no explanation.
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Fail(0)
            .Invoke(1, "read").Ok(1, V(1));

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history));
    }

    [Fact]
    public void Failed_and_timed_out_reads_prove_nothing()
    {
        var history = new HistoryBuilder()
            .Invoke(0, "write", V(1)).Ok(0)
            .Invoke(1, "read").Fail(1)
            .Invoke(2, "read").Info(2)
            .Invoke(3, "read").Ok(3, V(1))
            .Build();

        var result = LinearizabilityChecker.Check(history, Models.CasRegister);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.Equal(2, result.Partitions.Single().OperationCount);
    }
}
