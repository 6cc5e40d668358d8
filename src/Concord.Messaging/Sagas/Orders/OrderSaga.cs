
namespace Concord.Messaging.Sagas.Orders;

/// <summary>Timings of the order saga. Defaults suit services on one network; the simulator shrinks them.</summary>
public sealed record OrderSagaTimings
{
    public long AttemptTimeoutMs { get; init; } = 2_000;

    /// <summary>Per compensatable step: past this, a stalled step is given up and the saga lets go of its holds.</summary>
    public long StepDeadlineMs { get; init; } = 30_000;

    /// <summary>Attempts per compensatable step (the first plus retries) before compensating.</summary>
    public int AttemptsMax { get; init; } = 4;

    public long BackoffBaseMs { get; init; } = 100;

    public long BackoffMaxMs { get; init; } = 5_000;

    /// <summary>Inventory's own expiry of the hold: a backstop for a saga whose host died, well past every step deadline.</summary>
    public long ReservationHoldMs { get; init; } = 15 * 60 * 1000;
}

/// <summary>
/// The order saga: place-order → reserve-stock → authorize-payment → capture-payment →
/// confirm-order (pivot) → commit-stock (retriable). A failure before the pivot undoes what was
/// done, in reverse: refund-payment, void-authorization (unless captured), release-stock,
/// cancel-order. See README.md for the state table.
/// </summary>
public static class OrderSaga
{
    public const string PlaceOrderStep = "place-order";
    public const string ReserveStockStep = "reserve-stock";
    public const string AuthorizePaymentStep = "authorize-payment";
    public const string CapturePaymentStep = "capture-payment";
    public const string ConfirmOrderStep = "confirm-order";
    public const string CommitStockStep = "commit-stock";

    public static SagaDefinition<OrderSagaData, OrderCommand> Definition { get; } = Create(new OrderSagaTimings());

    /// <summary>One saga per order; the id is also the correlation id and partition key of its messages.</summary>
    public static string SagaId(Guid orderId) => "order-" + orderId.ToString("N");

    public static SagaDefinition<OrderSagaData, OrderCommand> Create(OrderSagaTimings timings)
    {
        ArgumentNullException.ThrowIfNull(timings);
        var bounded = new RetryPolicy(timings.AttemptsMax, timings.BackoffBaseMs, timings.BackoffMaxMs);
        var unbounded = bounded with { AttemptsMax = RetryPolicy.AttemptsUnbounded };

        SagaStep<OrderSagaData, OrderCommand> Compensatable(
            string name, Func<OrderSagaData, CommandContext, OrderCommand> action, Func<OrderSagaData, CommandContext, OrderCommand> compensation) => new()
            {
                Name = name,
                Kind = StepKind.Compensatable,
                Action = action,
                Compensation = compensation,
                AttemptTimeoutMs = timings.AttemptTimeoutMs,
                DeadlineMs = timings.StepDeadlineMs,
                Retry = bounded,
            };

        return new SagaDefinition<OrderSagaData, OrderCommand>
        {
            Name = "order-saga",
            Steps =
            [
                Compensatable(PlaceOrderStep,
                    (d, c) => new PlaceOrder(d.OrderId, c.IdempotencyKey, d.CustomerId, d.Currency, d.Lines),
                    (d, c) => new CancelOrder(d.OrderId, c.IdempotencyKey)),
                Compensatable(ReserveStockStep,
                    (d, c) => new ReserveStock(d.OrderId, c.IdempotencyKey, d.Lines, timings.ReservationHoldMs),
                    (d, c) => new ReleaseStock(d.OrderId, c.IdempotencyKey, d.Lines)),
                Compensatable(AuthorizePaymentStep,
                    (d, c) => new AuthorizePayment(d.OrderId, c.IdempotencyKey, d.PaymentAccountId, d.Currency, d.TotalMinor),
                    (d, c) => new VoidAuthorization(d.OrderId, c.IdempotencyKey, d.PaymentAccountId, d.Currency, d.TotalMinor))
                    // A capture consumes the authorization; the captured money comes back by refund, not void.
                    with { CompensationSupersededBy = CapturePaymentStep },
                Compensatable(CapturePaymentStep,
                    (d, c) => new CapturePayment(d.OrderId, c.IdempotencyKey, d.PaymentAccountId, d.Currency, d.TotalMinor),
                    (d, c) => new RefundPayment(d.OrderId, c.IdempotencyKey, d.PaymentAccountId, d.Currency, d.TotalMinor)),
                new()
                {
                    Name = ConfirmOrderStep,
                    Kind = StepKind.Pivot,
                    Action = (d, c) => new ConfirmOrder(d.OrderId, c.IdempotencyKey),
                    AttemptTimeoutMs = timings.AttemptTimeoutMs,
                    Retry = unbounded,
                },
                new()
                {
                    Name = CommitStockStep,
                    Kind = StepKind.Retriable,
                    Action = (d, c) => new CommitStock(d.OrderId, c.IdempotencyKey, d.Lines),
                    AttemptTimeoutMs = timings.AttemptTimeoutMs,
                    Retry = unbounded,
                },
            ],
            CompensationRetry = unbounded,
            CompensationAttemptTimeoutMs = timings.AttemptTimeoutMs,
        }.Validated();
    }

    /// <summary>Starts the saga for <paramref name="data"/>; its first effect sends PlaceOrder.</summary>
    public static SagaDecision<OrderSagaData, OrderCommand> Start(OrderSagaData data, long nowMs, SagaDefinition<OrderSagaData, OrderCommand>? definition = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        IReadOnlyList<string> problems = data.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid order: " + string.Join(" ", problems), nameof(data));
        }

        return (definition ?? Definition).Start(SagaId(data.OrderId), data, nowMs);
    }
}
