using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using static Concord.Messaging.Sagas.Orders.OrderSaga;

namespace Concord.Messaging.Tests.Sagas;

public sealed class OrderSagaTests
{
    static SagaScript HappyUntil(string step)
    {
        var script = new SagaScript();
        foreach (string done in new[] { PlaceOrderStep, ReserveStockStep, AuthorizePaymentStep, CapturePaymentStep, ConfirmOrderStep }.TakeWhile(s => s != step))
        {
            script.Ok(done);
        }

        return script;
    }

    [Fact]
    public void Success_runs_every_step_once_in_order_and_completes()
    {
        SagaScript s = HappyUntil(CommitStockStep).Ok(CommitStockStep);
        Assert.Equal(["PlaceOrder#1", "ReserveStock#1", "AuthorizePayment#1", "CapturePayment#1", "ConfirmOrder#1", "CommitStock#1"], s.Sent);
        Assert.Equal(SagaStatus.Completed, s.Status);
        Assert.True(s.State.IsTerminal);
        Assert.Null(s.State.ArmedTimer);
        Assert.Empty(s.LastEffects);
        Assert.All(s.State.Outcomes, o => Assert.Equal(StepOutcome.Succeeded, o));
        Assert.Equal(7, s.State.History.Count); // the start and six replies
    }

    [Fact]
    public void Commands_carry_the_order_and_a_key_per_saga_step_and_phase()
    {
        SagaScript s = HappyUntil(CapturePaymentStep);
        var authorize = Assert.IsType<AuthorizePayment>(s.Commands.Single(c => c.Step == AuthorizePaymentStep).Command);
        Assert.Equal(2 * 1_250 + 500, authorize.AmountMinor);
        Assert.Equal("customer:1", authorize.AccountId);
        Assert.Equal("order-" + SagaScript.Order.OrderId.ToString("N") + ":authorize-payment:do", authorize.IdempotencyKey);
        Assert.Equal(s.Commands.Count(), s.Commands.Select(c => c.IdempotencyKey).Distinct().Count());
        var reserve = Assert.IsType<ReserveStock>(s.Commands.Single(c => c.Step == ReserveStockStep).Command);
        Assert.Equal(SagaScript.Order.Lines, reserve.Lines);
        Assert.Equal(60_000, reserve.HoldMs);
    }

    public static TheoryData<string, string[]> Refusals => new()
    {
        { PlaceOrderStep, [] },
        { ReserveStockStep, ["CancelOrder#1"] },
        { AuthorizePaymentStep, ["ReleaseStock#1", "CancelOrder#1"] },
        { CapturePaymentStep, ["VoidAuthorization#1", "ReleaseStock#1", "CancelOrder#1"] },
        // After the capture the money comes back by refund; the authorization was consumed, so no void.
        { ConfirmOrderStep, ["RefundPayment#1", "ReleaseStock#1", "CancelOrder#1"] },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_refusal_undoes_what_succeeded_in_reverse_and_nothing_else(string step, string[] compensations)
    {
        SagaScript s = HappyUntil(step);
        int forward = s.Sent.Count;
        s.Refuse(step, "insufficient");
        while (s.Status == SagaStatus.Compensating)
        {
            s.Undone(s.Definition.Steps[s.State.Cursor].Name);
        }

        Assert.Equal(compensations, s.Sent.Skip(forward));
        Assert.Equal(SagaStatus.Compensated, s.Status);
        Assert.Contains(step + " failed: insufficient", s.State.FailureReason, StringComparison.Ordinal);
        Assert.Equal(StepOutcome.Failed, s.State.Outcomes[s.Definition.Steps.IndexOf(s.Definition.Steps.Single(x => x.Name == step))]);
    }

    public static TheoryData<string, string[]> Timeouts => new()
    {
        // A step that timed out may have taken effect, so it is compensated too.
        { PlaceOrderStep, ["CancelOrder#1"] },
        { ReserveStockStep, ["ReleaseStock#1", "CancelOrder#1"] },
        { AuthorizePaymentStep, ["VoidAuthorization#1", "ReleaseStock#1", "CancelOrder#1"] },
        // The capture may or may not have happened: refund it (a no-op, or a bar on a late capture), then void.
        { CapturePaymentStep, ["RefundPayment#1", "VoidAuthorization#1", "ReleaseStock#1", "CancelOrder#1"] },
    };

    [Theory]
    [MemberData(nameof(Timeouts))]
    public void A_step_without_replies_is_retried_with_the_same_key_then_compensated(string step, string[] compensations)
    {
        SagaScript s = HappyUntil(step);
        int before = s.Sent.Count;
        s.TimeOut(SagaScript.Timings.AttemptsMax);
        string[] attempts = [.. s.Sent.Skip(before - 1).Take(SagaScript.Timings.AttemptsMax)];
        Assert.Equal(Enumerable.Range(1, 3).Select(i => attempts[0][..^1] + i), attempts);
        Assert.Single(s.Commands.Where(c => c.Step == step && c.Phase == SagaPhase.Action).Select(c => c.IdempotencyKey).Distinct());
        Assert.Single(s.Commands.Where(c => c.Step == step && c.Phase == SagaPhase.Action).Select(c => c.Command).Distinct()); // byte-identical retries
        Assert.Contains("retry budget of 3 attempts exhausted", s.State.FailureReason, StringComparison.Ordinal);

        int forward = before - 1 + SagaScript.Timings.AttemptsMax;
        while (s.Status == SagaStatus.Compensating)
        {
            s.Undone(s.Definition.Steps[s.State.Cursor].Name);
        }

        Assert.Equal(compensations, s.Sent.Skip(forward));
        Assert.Equal(SagaStatus.Compensated, s.Status);
    }

    [Fact]
    public void Backoff_doubles_and_is_capped()
    {
        var retry = new RetryPolicy(10, 10, 40);
        Assert.Equal([10L, 20, 40, 40, 40], Enumerable.Range(1, 5).Select(retry.BackoffMs));
        SagaScript s = HappyUntil(ReserveStockStep).Transient(ReserveStockStep);
        var timer = Assert.IsType<ScheduleTimer<OrderCommand>>(Assert.Single(s.LastEffects));
        Assert.Equal(TimerKind.RetryBackoff, timer.Timer.Kind);
        Assert.Equal(s.NowMs + 10, timer.DueAtMs);
    }

    [Fact]
    public void Transient_failures_beyond_the_budget_compensate()
    {
        SagaScript s = HappyUntil(AuthorizePaymentStep)
            .Transient(AuthorizePaymentStep).Fire()
            .Transient(AuthorizePaymentStep).Fire()
            .Transient(AuthorizePaymentStep);
        Assert.Equal(["AuthorizePayment#1", "AuthorizePayment#2", "AuthorizePayment#3", "VoidAuthorization#1"], s.Sent.Skip(2));
        Assert.Equal(SagaStatus.Compensating, s.Status);
        Assert.Equal(StepOutcome.Compensating, s.State.Outcomes[2]);
    }

    [Fact]
    public void A_stalled_step_is_given_up_at_its_deadline_and_its_holds_released()
    {
        var timings = SagaScript.Timings with { AttemptsMax = 1_000, StepDeadlineMs = 1_000, AttemptTimeoutMs = 300 };
        var s = new SagaScript(OrderSaga.Create(timings)).Ok(PlaceOrderStep).Ok(ReserveStockStep);
        long started = s.NowMs;
        while (s.Status == SagaStatus.Running)
        {
            s.Fire();
        }

        Assert.Contains("deadline of 1000 ms passed", s.State.FailureReason, StringComparison.Ordinal);
        Assert.True(s.NowMs <= started + 1_000, "gave up at " + (s.NowMs - started));
        Assert.Equal("VoidAuthorization#1", s.Sent[^1]);
        Assert.Equal(SagaStatus.Compensating, s.Status);
        s.Undone(AuthorizePaymentStep);
        Assert.Equal("ReleaseStock#1", s.Sent[^1]); // the reservation expires with the stalled saga
    }

    [Fact]
    public void A_backoff_timer_fired_late_past_the_deadline_gives_up_instead_of_resending()
    {
        var timings = SagaScript.Timings with { StepDeadlineMs = 1_000 };
        var s = new SagaScript(OrderSaga.Create(timings)).Ok(PlaceOrderStep).Transient(ReserveStockStep);
        SagaTimer backoff = s.State.ArmedTimer!;
        s.Send(new TimerFired(backoff), atMs: s.NowMs + 5_000); // the host was paused
        Assert.Equal(["PlaceOrder#1", "ReserveStock#1", "ReleaseStock#1"], s.Sent);
        Assert.Contains("deadline of 1000 ms passed", s.State.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pivot_never_gives_up_on_silence_and_a_retriable_step_never_on_refusal()
    {
        SagaScript s = HappyUntil(ConfirmOrderStep).TimeOut(50);
        Assert.Equal(SagaStatus.Running, s.Status);
        Assert.Equal("ConfirmOrder#51", s.Sent[^1]);
        s.Ok(ConfirmOrderStep).Refuse(CommitStockStep, "lock timeout").Fire().Transient(CommitStockStep).Fire().Ok(CommitStockStep);
        Assert.Equal(["CommitStock#1", "CommitStock#2", "CommitStock#3"], s.Sent.TakeLast(3));
        Assert.Equal(SagaStatus.Completed, s.Status);
    }

    [Fact]
    public void Compensations_are_retried_until_they_succeed()
    {
        SagaScript s = HappyUntil(AuthorizePaymentStep).Refuse(AuthorizePaymentStep);
        s.UndoFailed(ReserveStockStep).Fire().TimeOut(20).Undone(ReserveStockStep).Undone(PlaceOrderStep);
        Assert.Equal("ReleaseStock#22", s.Sent[^2]);
        Assert.Equal(SagaStatus.Compensated, s.Status);
    }

    [Fact]
    public void Duplicate_replies_are_ignored_without_effects()
    {
        SagaScript s = HappyUntil(AuthorizePaymentStep);
        int history = s.State.History.Count;
        s.Ok(ReserveStockStep).Ok(PlaceOrderStep).Refuse(ReserveStockStep);
        Assert.Empty(s.LastEffects);
        Assert.Equal(["PlaceOrder#1", "ReserveStock#1", "AuthorizePayment#1"], s.Sent);
        Assert.Equal(history + 3, s.State.History.Count); // recorded, with why
        Assert.StartsWith("ignored: duplicate", s.State.History[^1].Note, StringComparison.Ordinal);

        s.Transient(AuthorizePaymentStep).Transient(AuthorizePaymentStep);
        Assert.Empty(s.LastEffects); // a second transient while backing off does not spend another attempt
        s.Fire();
        Assert.Equal("AuthorizePayment#2", s.Sent[^1]);

        s.Refuse(AuthorizePaymentStep).Undone(ReserveStockStep).Undone(ReserveStockStep);
        Assert.Empty(s.LastEffects);
        Assert.Equal(["ReleaseStock#1", "CancelOrder#1"], s.Sent.TakeLast(2));
    }

    [Fact]
    public void Out_of_order_and_stale_inputs_are_ignored()
    {
        SagaScript s = HappyUntil(ReserveStockStep);
        SagaTimer firstTimeout = s.State.ArmedTimer!;
        s.Ok(CapturePaymentStep); // a reply to a command never sent
        Assert.Empty(s.LastEffects);
        s.Undone(ReserveStockStep); // a compensation never started
        Assert.Empty(s.LastEffects);
        s.Ok(ReserveStockStep).Send(new TimerFired(firstTimeout)); // the old attempt's timer fires after the reply
        Assert.Empty(s.LastEffects);
        Assert.Equal("ignored: stale timer", s.State.History[^1].Note);
        s.Send(new StepReplied("order-someone-else:reserve-stock:do", ReplyOutcome.Succeeded));
        s.Send(new StepReplied("garbage", ReplyOutcome.Failed));
        s.Send(new SagaStarted());
        Assert.Empty(s.LastEffects);
        Assert.Equal("running authorize-payment (attempt 1, awaiting reply)", s.Describe);
    }

    [Fact]
    public void A_late_success_after_a_timeout_is_covered_by_the_compensation_already_sent()
    {
        SagaScript s = HappyUntil(ReserveStockStep).TimeOut(3);
        Assert.Equal("ReleaseStock#1", s.Sent[^1]);
        s.Ok(ReserveStockStep); // the reservation did happen after all
        Assert.Empty(s.LastEffects);
        Assert.Contains("compensation is already in flight", s.State.History[^1].Note, StringComparison.Ordinal);
        s.Undone(ReserveStockStep).Ok(ReserveStockStep);
        Assert.Contains("already compensated", s.State.History[^1].Note, StringComparison.Ordinal);
        Assert.Equal(1, s.Sent.Count(c => c.StartsWith("ReleaseStock", StringComparison.Ordinal)));
        s.Undone(PlaceOrderStep);
        Assert.Equal(SagaStatus.Compensated, s.Status);
    }

    [Fact]
    public void A_capture_that_timed_out_but_happened_is_refunded_and_not_voided()
    {
        SagaScript s = HappyUntil(CapturePaymentStep).TimeOut(3);
        Assert.Equal("RefundPayment#1", s.Sent[^1]);
        s.Ok(CapturePaymentStep).Undone(CapturePaymentStep);
        Assert.Equal("ReleaseStock#1", s.Sent[^1]);
        Assert.Equal(StepOutcome.NothingToUndo, s.State.Outcomes[2]);
    }

    [Fact]
    public void Finished_sagas_absorb_every_input()
    {
        SagaScript done = HappyUntil(CommitStockStep).Ok(CommitStockStep);
        SagaScript cancelled = new SagaScript().Refuse(PlaceOrderStep);
        foreach (SagaScript s in new[] { done, cancelled })
        {
            SagaStatus status = s.Status;
            s.Ok(ReserveStockStep).Refuse(CommitStockStep).Undone(PlaceOrderStep).Send(new TimerFired(new SagaTimer("x", SagaPhase.Action, 0, 1, TimerKind.ReplyTimeout)));
            Assert.Equal(status, s.Status);
            Assert.Empty(s.LastEffects);
            Assert.Equal("ignored: the saga has finished", s.State.History[^1].Note);
        }
    }

    [Fact]
    public void History_records_every_transition_with_its_time_event_and_commands()
    {
        SagaScript s = new SagaScript(startMs: 5_000).Ok(PlaceOrderStep).Advance(7).Refuse(ReserveStockStep, "insufficient stock");
        SagaTransition<OrderCommand>[] history = [.. s.State.History];
        Assert.Equal(3, history.Length);
        Assert.Equal((5_000L, "new", "running place-order (attempt 1, awaiting reply)"), (history[0].AtMs, history[0].From, history[0].To));
        Assert.IsType<SagaStarted>(history[0].Event);
        Assert.Equal(5_007, history[2].AtMs);
        Assert.Equal("compensating place-order (attempt 1, awaiting reply)", history[2].To);
        Assert.Equal(new StepReplied(SagaScript.Key(ReserveStockStep), ReplyOutcome.Failed, "insufficient stock"), history[2].Event);
        Assert.IsType<CancelOrder>(history[2].Effects.OfType<SendCommand<OrderCommand>>().Single().Command);
        Assert.Equal("reserve-stock failed: insufficient stock", history[2].Note);
    }

    [Fact]
    public void Time_never_runs_backwards_in_history()
    {
        SagaScript s = new SagaScript(startMs: 5_000);
        s.Send(new StepReplied(SagaScript.Key(PlaceOrderStep), ReplyOutcome.Succeeded), atMs: 4_000);
        Assert.Equal(5_000, s.State.History[^1].AtMs);
    }

    [Fact]
    public void Invalid_definitions_are_refused_with_every_problem_named()
    {
        SagaDefinition<OrderSagaData, OrderCommand> d = OrderSaga.Definition;
        var broken = d with
        {
            Name = "Order Saga",
            Steps = d.Steps
                .SetItem(0, d.Steps[0] with { Name = "reserve-stock" })
                .SetItem(4, d.Steps[4] with { Retry = new RetryPolicy(3, 10, 10) })
                .Add(d.Steps[1] with { Name = "late-compensatable" }),
            CompensationRetry = new RetryPolicy(5, 0, 10),
        };
        string message = Assert.Throws<ArgumentException>(broken.Validated).Message;
        Assert.Contains("name: 'Order Saga' must be lower-case", message, StringComparison.Ordinal);
        Assert.Contains("step 'reserve-stock': name used twice", message, StringComparison.Ordinal);
        Assert.Contains("step 'confirm-order': a pivot or retriable step cannot give up", message, StringComparison.Ordinal);
        Assert.Contains("step 'late-compensatable': compensatable steps come before the pivot", message, StringComparison.Ordinal);
        Assert.Contains("CompensationRetry: a compensation that gives up", message, StringComparison.Ordinal);
        Assert.Contains("1 <= BackoffBaseMs (0)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_orders_are_refused_before_the_saga_starts()
    {
        var order = SagaScript.Order with { Currency = "eur", Lines = [new OrderLine("SKU-A", 0, 1), new OrderLine("SKU-A", 1, 1)] };
        string message = Assert.Throws<ArgumentException>(() => OrderSaga.Start(order, 0)).Message;
        Assert.Contains("currency", message, StringComparison.Ordinal);
        Assert.Contains("lines[0]: quantity within [1, 1000]", message, StringComparison.Ordinal);
        Assert.Contains("lines[1].sku: 1 to 64 characters, once per order", message, StringComparison.Ordinal);
    }
}
