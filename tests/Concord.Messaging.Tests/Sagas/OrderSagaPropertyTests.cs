using CsCheck;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Messaging.Tests.Sagas;

/// <summary>Thousands of order sagas against a lossy, duplicating, reordering world (TigerBeetle's VOPR, in miniature).</summary>
public sealed class OrderSagaPropertyTests
{
    const int Iterations = 1_500;

    static readonly Gen<double> Probability = Gen.Int[0, 30].Select(p => p / 100.0);

    static readonly Gen<WorldSchedule> Schedules =
        from seed in Gen.ULong
        from orders in Gen.Int[1, 6]
        from dropRequest in Probability
        from dropReply in Probability
        from duplicate in Probability
        from transient in Probability
        from latency in Gen.Int[1, 800]
        from declines in Gen.Int[0, 40].Array[4]
        select new WorldSchedule(seed, orders, dropRequest, dropReply, duplicate, transient, latency,
            declines[0] / 100.0, declines[1] / 100.0, declines[2] / 100.0, declines[3] / 100.0);

    static void AssertInvariants(WorldSchedule schedule, SagaDefinition<OrderSagaData, OrderCommand>? definition = null)
    {
        WorldResult result = OrderWorld.Run(schedule, definition);
        if (result.Violations.Count > 0)
        {
            throw new InvalidOperationException(schedule + Environment.NewLine + string.Join(Environment.NewLine, result.Violations.Take(10)));
        }
    }

    [Fact]
    public void Every_saga_ends_confirmed_or_compensated_with_stock_and_money_balanced() =>
        Schedules.Sample(s => AssertInvariants(s), iter: Iterations, print: s => s.ToString());

    [Fact]
    public void The_world_really_duplicates_times_out_and_fails()
    {
        // Guards the property above against a world too kind to test anything.
        int duplicates = 0, confirmed = 0, compensated = 0, lateReplies = 0, timeouts = 0;
        for (ulong seed = 1; seed <= 200; seed++)
        {
            WorldResult r = OrderWorld.Run(new WorldSchedule(seed, 4, 0.1, 0.1, 0.2, 0.1, 600, 0.1, 0.1, 0.1, 0.1));
            Assert.Empty(r.Violations);
            duplicates += r.DuplicateDeliveries;
            confirmed += r.Confirmed;
            compensated += r.Compensated;
            lateReplies += r.Sagas.Sum(s => s.History.Count(t => t.Note.StartsWith("late", StringComparison.Ordinal)));
            timeouts += r.Sagas.Sum(s => s.History.Count(t => t.Note.Contains("no reply", StringComparison.Ordinal)));
        }

        Assert.True(duplicates > 100, "duplicates " + duplicates);
        Assert.True(confirmed > 50, "confirmed " + confirmed);
        Assert.True(compensated > 50, "compensated " + compensated);
        Assert.True(lateReplies > 10, "late replies " + lateReplies);
        Assert.True(timeouts > 50, "timeouts " + timeouts);
    }

    [Theory]
    [InlineData(0, "compensated, but the order is Pending")] // forgets CancelOrder
    [InlineData(1, "stock reserved")] // forgets ReleaseStock, e.g. when authorization fails
    [InlineData(2, "authorized")] // forgets VoidAuthorization
    [InlineData(3, "compensated, but captured")] // forgets RefundPayment
    public void Negative_control_a_saga_that_forgets_a_compensation_is_caught(int step, string violation)
    {
        SagaDefinition<OrderSagaData, OrderCommand> broken = OrderWorld.Definition with
        {
            Steps = OrderWorld.Definition.Steps.SetItem(step, OrderWorld.Definition.Steps[step] with { Compensation = null }),
        };
        var e = Assert.Throws<CsCheckException>(() => Schedules.Sample(s => AssertInvariants(s, broken), iter: Iterations));
        Assert.Contains(violation, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_control_a_saga_that_changes_the_key_on_retry_is_caught()
    {
        // The classic mistake: a fresh idempotency key per attempt. A lost reply then means a second reservation.
        SagaDefinition<OrderSagaData, OrderCommand> broken = OrderWorld.Definition with
        {
            Steps = OrderWorld.Definition.Steps.SetItem(1, OrderWorld.Definition.Steps[1] with
            {
                Action = (d, c) => new ReserveStock(d.OrderId, c.IdempotencyKey + "#" + c.Attempt, d.Lines, 60_000),
            }),
        };
        Assert.Throws<CsCheckException>(() => Schedules.Sample(s => AssertInvariants(s, broken), iter: Iterations));
    }
}
