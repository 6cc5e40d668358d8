using Concord.Checkers.Histories;
using Concord.Checkers.Invariants;

namespace Concord.Checkers.Tests;

public class InvariantCheckerTests
{
    /// <summary>The kind of invariant later issues plug in: every acknowledged reserve leaves stock ≥ 0.</summary>
    private sealed class StockNeverNegative : IHistoryInvariant
    {
        public string Name => "inventory.stock-never-negative";

        public IEnumerable<InvariantViolation> Check(History history) =>
            history.Operations
                .Where(o => o.IsAcknowledged && o.Function == "reserve" && o.Output.Integer < 0)
                .Select(o => new InvariantViolation(Name, $"stock of {o.Key} fell to {o.Output.Integer}", [o]));
    }

    private static History Reservations(params long[] stockAfter)
    {
        var builder = new HistoryBuilder();
        foreach (var stock in stockAfter)
        {
            builder.Invoke(0, "reserve", OperationValue.Of(1), key: "sku-1").Ok(0, OperationValue.Of(stock));
        }

        return builder.Build();
    }

    [Fact]
    public void Reports_each_violation_with_its_operations()
    {
        var report = InvariantChecker.Check(Reservations(2, 1, 0, -1, -2), [new StockNeverNegative()]);

        Assert.False(report.Holds);
        Assert.Equal(["stock of sku-1 fell to -1", "stock of sku-1 fell to -2"], report.Violations.Select(v => v.Description));
        Assert.Equal(3, report.Violations[0].Operations.Single().Id);
    }

    [Fact]
    public void Holds_when_nothing_breaks_it()
    {
        var report = InvariantChecker.Check(Reservations(2, 1, 0), [new StockNeverNegative()]);

        Assert.True(report.Holds);
        Assert.Equal(["inventory.stock-never-negative"], report.CheckedInvariants);
    }

    [Fact]
    public void Functions_plug_in_too_and_names_must_be_unique()
    {
        var never = InvariantChecker.FromFunction("always-fails", h => [new InvariantViolation("always-fails", "by design", [])]);

        Assert.Single(InvariantChecker.Check(Reservations(1), [never]).Violations);
        Assert.Throws<ArgumentException>(() => InvariantChecker.Check(Reservations(1), [never, never]));
    }

    [Fact]
    public void A_violation_under_another_name_is_a_bug_in_the_invariant()
    {
        var confused = InvariantChecker.FromFunction("a", h => [new InvariantViolation("b", "wrong name", [])]);

        Assert.Throws<Concord.Core.InvariantViolationException>(() => InvariantChecker.Check(Reservations(1), [confused]));
    }
}
