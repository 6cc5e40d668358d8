using System.Collections.Immutable;
using System.Globalization;
using Concord.Core.Randomness;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Messaging.Tests.Sagas;

/// <summary>The knobs of one simulated run; every random choice comes from <see cref="Seed"/>.</summary>
public sealed record WorldSchedule(
    ulong Seed,
    int Orders,
    double DropRequest,
    double DropReply,
    double Duplicate,
    double Transient,
    int LatencyMsMax,
    double DeclinePlace,
    double DeclineAuthorization,
    double DeclineCapture,
    double DeclineConfirm)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"seed={Seed} orders={Orders} drop={DropRequest:F2}/{DropReply:F2} dup={Duplicate:F2} transient={Transient:F2} latency<={LatencyMsMax}ms decline={DeclinePlace:F2}/{DeclineAuthorization:F2}/{DeclineCapture:F2}/{DeclineConfirm:F2}");
}

public sealed record WorldResult(
    IReadOnlyList<string> Violations,
    int Confirmed,
    int Compensated,
    int DuplicateDeliveries,
    int Events,
    IReadOnlyList<SagaState<OrderSagaData, OrderCommand>> Sagas);

/// <summary>
/// An in-memory, deterministic stand-in for Orders, Inventory and Payments plus a lossy network,
/// for driving many order sagas at once. The services behave as the real ones must for the saga to
/// be safe: they deduplicate by idempotency key (replaying the recorded answer, and counting the
/// duplicate), never record a transient failure, and remember compensations that arrive before the
/// thing they undo (a release before its reservation, a refund before its capture), so a delayed
/// request cannot take effect after it was undone. The network drops, delays, duplicates and so
/// reorders both requests and replies. Timers always fire, usually a little late, sometimes seconds late.
/// </summary>
public sealed class OrderWorld
{
    public static readonly OrderSagaTimings Timings = new()
    {
        AttemptTimeoutMs = 300,
        StepDeadlineMs = 2_000,
        AttemptsMax = 3,
        BackoffBaseMs = 50,
        BackoffMaxMs = 400,
        ReservationHoldMs = 60_000,
    };

    public static readonly SagaDefinition<OrderSagaData, OrderCommand> Definition = OrderSaga.Create(Timings);

    const int EventsMax = 500_000;
    static readonly string[] Skus = ["SKU-A", "SKU-B", "SKU-C"];

    enum Stock { None, Held, Committed, Released }

    enum OrderRow { None, Pending, Confirmed, Cancelled }

    sealed class Books
    {
        public Stock Stock;
        public int Reserved, Released, Committed;
        public bool Authorized, Captured, Voided, Refunded, CaptureBarred;
        public long AuthorizedMinor, CapturedMinor, VoidedMinor, RefundedMinor;
        public OrderRow Order;
        public bool DeclinePlace, DeclineAuthorization, DeclineCapture, DeclineConfirm;
    }

    readonly WorldSchedule _schedule;
    readonly SagaDefinition<OrderSagaData, OrderCommand> _definition;
    readonly SeededRandom _network;
    readonly SeededRandom _faults;
    readonly PriorityQueue<Action, (long AtMs, long Seq)> _queue = new();
    readonly Dictionary<string, (OrderCommand Command, ReplyOutcome Outcome, string? Reason)> _answers = [];
    readonly Dictionary<Guid, Books> _books = [];
    readonly Dictionary<Guid, OrderSagaData> _orders = [];
    readonly Dictionary<string, SagaState<OrderSagaData, OrderCommand>> _sagas = [];
    readonly Dictionary<string, int> _available;
    readonly Dictionary<string, int> _onHand;
    readonly List<string> _violations = [];
    long _seq;
    long _nowMs;
    int _duplicates;
    int _events;

    OrderWorld(WorldSchedule schedule, SagaDefinition<OrderSagaData, OrderCommand> definition)
    {
        _schedule = schedule;
        _definition = definition;
        var root = new SeededRandom(schedule.Seed);
        _network = root.Derive("network");
        _faults = root.Derive("faults");
        SeededRandom setup = root.Derive("setup");
        _onHand = Skus.ToDictionary(s => s, _ => setup.NextInt(0, 12));
        _available = new Dictionary<string, int>(_onHand);
        for (int i = 0; i < schedule.Orders; i++)
        {
            var idBytes = new byte[16];
            BitConverter.TryWriteBytes(idBytes.AsSpan(0, 8), setup.NextUInt64());
            BitConverter.TryWriteBytes(idBytes.AsSpan(8, 8), setup.NextUInt64());
            var orderId = new Guid(idBytes);
            string[] skus = [.. Skus];
            setup.Shuffle(skus.AsSpan());
            ImmutableArray<OrderLine> lines = [.. skus.Take(setup.NextInt(1, 4)).Select(s => new OrderLine(s, setup.NextInt(1, 4), setup.NextInt(1, 5000)))];
            _orders[orderId] = new OrderSagaData(orderId, orderId, "EUR", "customer:" + i.ToString(CultureInfo.InvariantCulture), lines);
            _books[orderId] = new Books
            {
                DeclinePlace = setup.NextBool(schedule.DeclinePlace),
                DeclineAuthorization = setup.NextBool(schedule.DeclineAuthorization),
                DeclineCapture = setup.NextBool(schedule.DeclineCapture),
                DeclineConfirm = setup.NextBool(schedule.DeclineConfirm),
            };
            long startAtMs = setup.NextInt(0, 1000);
            At(startAtMs, () =>
            {
                var decision = OrderSaga.Start(_orders[orderId], _nowMs, _definition);
                Apply(decision);
            });
        }
    }

    public static WorldResult Run(WorldSchedule schedule, SagaDefinition<OrderSagaData, OrderCommand>? definition = null)
    {
        var world = new OrderWorld(schedule, definition ?? Definition);
        return world.RunToQuiescence();
    }

    WorldResult RunToQuiescence()
    {
        while (_queue.TryDequeue(out Action? action, out var at))
        {
            if (++_events > EventsMax)
            {
                _violations.Add($"did not settle within {EventsMax} events");
                break;
            }

            _nowMs = at.AtMs;
            action();
        }

        CheckInvariants();
        return new WorldResult(
            _violations,
            _sagas.Values.Count(s => s.Status == SagaStatus.Completed),
            _sagas.Values.Count(s => s.Status == SagaStatus.Compensated),
            _duplicates,
            _events,
            [.. _sagas.Values]);
    }

    void At(long atMs, Action action) => _queue.Enqueue(action, (atMs, _seq++));

    long Latency() => 1 + _network.NextInt(_schedule.LatencyMsMax);

    // Timers fire a little late, and now and then very late (a paused or overloaded host).
    long TimerLateness() => _network.NextBool(0.05) ? _network.NextInt(3_000) : _network.NextInt(10);

    void Apply(SagaDecision<OrderSagaData, OrderCommand> decision)
    {
        SagaState<OrderSagaData, OrderCommand> state = decision.State;
        _sagas[state.SagaId] = state;
        foreach (SagaEffect<OrderCommand> effect in decision.Effects)
        {
            switch (effect)
            {
                case SendCommand<OrderCommand> send:
                    // At-least-once: the request may be lost, or arrive twice in either order.
                    if (!_network.NextBool(_schedule.DropRequest))
                    {
                        At(_nowMs + Latency(), () => Deliver(state.SagaId, send));
                    }

                    if (_network.NextBool(_schedule.Duplicate))
                    {
                        At(_nowMs + Latency(), () => Deliver(state.SagaId, send));
                    }

                    break;
                case ScheduleTimer<OrderCommand> timer:
                    At(timer.DueAtMs + TimerLateness(), () => Handle(state.SagaId, new TimerFired(timer.Timer)));
                    break;
                default:
                    _violations.Add("unknown effect " + effect);
                    break;
            }
        }
    }

    void Handle(string sagaId, SagaEvent @event) => Apply(_definition.Handle(_sagas[sagaId], @event, _nowMs));

    void Deliver(string sagaId, SendCommand<OrderCommand> send)
    {
        OrderCommand command = send.Command;
        ReplyOutcome outcome;
        string? reason;
        if (_answers.TryGetValue(command.IdempotencyKey, out var answer))
        {
            _duplicates++;
            if (!answer.Command.Equals(command))
            {
                _violations.Add($"key {command.IdempotencyKey} reused for a different request");
            }

            (outcome, reason) = (answer.Outcome, answer.Reason);
        }
        else if (_faults.NextBool(_schedule.Transient))
        {
            (outcome, reason) = (ReplyOutcome.TransientFailure, "service unavailable");
        }
        else
        {
            (outcome, reason) = Execute(command);
            _answers[command.IdempotencyKey] = (command, outcome, reason);
        }

        if (!_network.NextBool(_schedule.DropReply))
        {
            At(_nowMs + Latency(), () => Handle(sagaId, new StepReplied(command.IdempotencyKey, outcome, reason)));
        }

        if (_network.NextBool(_schedule.Duplicate))
        {
            At(_nowMs + Latency(), () => Handle(sagaId, new StepReplied(command.IdempotencyKey, outcome, reason)));
        }
    }

    static (ReplyOutcome, string?) Ok() => (ReplyOutcome.Succeeded, null);

    static (ReplyOutcome, string?) No(string reason) => (ReplyOutcome.Failed, reason);

    void DoubleEffect(OrderCommand command) => _violations.Add($"{command.GetType().Name} for {command.OrderId} would apply a second time (key {command.IdempotencyKey})");

    (ReplyOutcome, string?) Execute(OrderCommand command)
    {
        Books b = _books[command.OrderId];
        switch (command)
        {
            case PlaceOrder:
                if (b.Order != OrderRow.None)
                {
                    if (b.Order != OrderRow.Cancelled)
                    {
                        DoubleEffect(command);
                    }

                    return No("order exists or was cancelled");
                }

                if (b.DeclinePlace)
                {
                    return No("customer blocked");
                }

                b.Order = OrderRow.Pending;
                return Ok();
            case ReserveStock reserve:
                if (b.Stock != Stock.None)
                {
                    if (b.Stock != Stock.Released)
                    {
                        DoubleEffect(command);
                    }

                    return No("reservation exists or was released");
                }

                if (reserve.Lines.Any(l => _available[l.Sku] < l.Quantity))
                {
                    return No("insufficient stock");
                }

                foreach (OrderLine line in reserve.Lines)
                {
                    _available[line.Sku] -= line.Quantity;
                    b.Reserved += line.Quantity;
                }

                b.Stock = Stock.Held;
                return Ok();
            case ReleaseStock release:
                switch (b.Stock)
                {
                    case Stock.Held:
                        foreach (OrderLine line in release.Lines)
                        {
                            _available[line.Sku] += line.Quantity;
                            b.Released += line.Quantity;
                        }

                        b.Stock = Stock.Released;
                        return Ok();
                    case Stock.None:
                        b.Stock = Stock.Released; // a tombstone: a late reservation is refused
                        return Ok();
                    case Stock.Released:
                        return Ok();
                    default:
                        return No("reservation already committed");
                }

            case CommitStock:
                if (b.Stock != Stock.Held)
                {
                    return No("no held reservation to commit: " + b.Stock);
                }

                b.Committed += b.Reserved;
                b.Stock = Stock.Committed;
                return Ok();
            case AuthorizePayment authorize:
                if (b.Authorized || b.Voided)
                {
                    if (b.Authorized)
                    {
                        DoubleEffect(command);
                    }

                    return No("authorization exists or was voided");
                }

                if (b.DeclineAuthorization)
                {
                    return No("insufficient funds");
                }

                b.Authorized = true;
                b.AuthorizedMinor += authorize.AmountMinor;
                return Ok();
            case CapturePayment capture:
                if (b.Captured)
                {
                    DoubleEffect(command);
                    return No("already captured");
                }

                if (!b.Authorized || b.Voided || b.CaptureBarred || b.DeclineCapture)
                {
                    return No("nothing to capture");
                }

                b.Captured = true;
                b.CapturedMinor += capture.AmountMinor;
                return Ok();
            case VoidAuthorization @void:
                if (b.Authorized && !b.Captured && !b.Voided)
                {
                    b.VoidedMinor += @void.AmountMinor;
                }

                b.Voided = !b.Captured; // a captured authorization has nothing left to void
                return Ok();
            case RefundPayment refund:
                if (b.Captured && !b.Refunded)
                {
                    b.Refunded = true;
                    b.RefundedMinor += refund.AmountMinor;
                }
                else if (!b.Captured)
                {
                    b.CaptureBarred = true; // a late capture is refused
                }

                return Ok();
            case ConfirmOrder:
                if (b.Order != OrderRow.Pending)
                {
                    return No("order is " + b.Order);
                }

                if (b.DeclineConfirm)
                {
                    return No("order was flagged by fraud review");
                }

                b.Order = OrderRow.Confirmed;
                return Ok();
            case CancelOrder:
                if (b.Order == OrderRow.Confirmed)
                {
                    return No("a confirmed order cannot be cancelled");
                }

                b.Order = OrderRow.Cancelled;
                return Ok();
            default:
                _violations.Add("unknown command " + command);
                return No("unknown command");
        }
    }

    void CheckInvariants()
    {
        foreach ((string sku, int onHand) in _onHand)
        {
            // Conservation: what is on hand is available, held or sold; nothing appears or vanishes.
            int heldOrSold = _books.Where(e => e.Value.Stock is Stock.Held or Stock.Committed)
                .Sum(e => _orders[e.Key].Lines.Where(l => l.Sku == sku).Sum(l => l.Quantity));
            Check(_available[sku] >= 0, sku, $"available stock {_available[sku]} is negative");
            Check(_available[sku] + heldOrSold == onHand, sku, $"available {_available[sku]} + held or sold {heldOrSold} != on hand {onHand}");
        }

        foreach ((Guid orderId, Books b) in _books)
        {
            string sagaId = OrderSaga.SagaId(orderId);
            if (!_sagas.TryGetValue(sagaId, out var saga) || !saga.IsTerminal)
            {
                _violations.Add($"{sagaId}: ended {(saga is null ? "unstarted" : _definition.Describe(saga))}, not Completed or Compensated");
                continue;
            }

            OrderSagaData order = _orders[orderId];
            Check(b.Reserved == b.Released + b.Committed, sagaId, $"stock reserved {b.Reserved} != released {b.Released} + committed {b.Committed}");
            Check(b.AuthorizedMinor == b.CapturedMinor + b.VoidedMinor, sagaId, $"authorized {b.AuthorizedMinor} != captured {b.CapturedMinor} + voided {b.VoidedMinor}");
            if (saga.Status == SagaStatus.Completed)
            {
                Check(b.Order == OrderRow.Confirmed, sagaId, "completed, but the order is " + b.Order);
                Check(b.Committed == order.Lines.Sum(l => l.Quantity), sagaId, "completed, but committed " + b.Committed);
                Check(b.CapturedMinor == order.TotalMinor && b.RefundedMinor == 0, sagaId, $"completed, but captured {b.CapturedMinor} refunded {b.RefundedMinor}");
            }
            else
            {
                Check(b.Order is OrderRow.None or OrderRow.Cancelled, sagaId, "compensated, but the order is " + b.Order);
                Check(b.Committed == 0, sagaId, "compensated, but committed " + b.Committed);
                Check(b.CapturedMinor == b.RefundedMinor, sagaId, $"compensated, but captured {b.CapturedMinor} != refunded {b.RefundedMinor}");
            }
        }
    }

    void Check(bool condition, string sagaId, string violation)
    {
        if (!condition)
        {
            _violations.Add(sagaId + ": " + violation);
        }
    }
}
