using System.Collections.Immutable;
using Concord.Core;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Experiments.Commerce.Workflow;

internal enum OrderStatus
{
    Pending,
    Confirmed,
    Cancelled,
}

/// <summary>An order row; a cancel that arrives first leaves a cancelled row as the tombstone that refuses a late PlaceOrder.</summary>
internal sealed record OrderRow(OrderStatus Status);

/// <summary>One SKU's units: on hand from the start, held by reservations, sold. Never oversold: <c>Held + Sold ≤ OnHand</c>.</summary>
internal sealed record SkuStock(int OnHand, int Held, int Sold)
{
    public int Available => OnHand - Held - Sold;
}

internal enum HoldStatus
{
    Held,
    Committed,
    Released,
}

/// <summary>
/// An order's reservation. <see cref="Times"/> counts how often it was taken: more than once only
/// when a consumer without an inbox ran the same ReserveStock twice.
/// </summary>
internal sealed record StockHold(HoldStatus Status, ImmutableArray<OrderLine> Lines, int Times);

/// <summary>An order's payment: authorizations and captures counted (more than one is a double charge), and the tombstones of the undo rules.</summary>
internal sealed record PaymentRecord(int Authorizations, int Captures, bool Voided, bool Refunded, bool CaptureBarred);

/// <summary>
/// The services' domain rules, the same in both modes; they keep the saga's service contract
/// (Concord.Messaging's README): "nothing to undo" is a successful undo, an undo that arrives
/// first leaves a tombstone that refuses the late request, a void after a capture is a no-op.
/// What differs by mode is only whether a repeated idempotency key reaches them at all.
/// </summary>
internal sealed partial class ServiceNode
{
    /// <summary>An account whose authorizations are declined (chosen by the customer at order time).</summary>
    internal const string DeclinedAccountPrefix = "declined-";

    static readonly RecordedAnswer Ok = new(ReplyOutcome.Succeeded, null);

    internal static string SkuKey(string sku) => "sku/" + sku;

    internal static string HoldKey(Guid orderId) => "hold/" + orderId.ToString("N");

    static string OrderKey(Guid orderId) => "order/" + orderId.ToString("N");

    static string PaymentKey(Guid orderId) => "payment/" + orderId.ToString("N");

    static RecordedAnswer No(string reason) => new(ReplyOutcome.Failed, reason);

    RecordedAnswer Execute(OrderCommand command, LocalTransaction tx)
    {
        Invariant.Assert(world.ServiceFor(command) == self, "a command reached a node that does not host its service");
        return command switch
        {
            PlaceOrder or ConfirmOrder or CancelOrder => ExecuteOrders(command, tx),
            ReserveStock or ReleaseStock or CommitStock => ExecuteInventory(command, tx),
            _ => ExecutePayments(command, tx),
        };
    }

    static RecordedAnswer ExecuteOrders(OrderCommand command, LocalTransaction tx)
    {
        string key = OrderKey(command.OrderId);
        OrderStatus? status = tx.Read<OrderRow>(key)?.Status;
        switch (command)
        {
            case PlaceOrder when status is null:
                return Change(tx, key, new OrderRow(OrderStatus.Pending), command);
            case PlaceOrder:
                // The primary key makes a second insert a no-op; only the tombstone refuses.
                return status == OrderStatus.Cancelled ? No("order was cancelled") : Ok;
            case ConfirmOrder when status == OrderStatus.Pending:
                return Change(tx, key, new OrderRow(OrderStatus.Confirmed), command);
            case ConfirmOrder:
                return status == OrderStatus.Confirmed ? Ok : No("order is " + (status?.ToString() ?? "missing"));
            case CancelOrder when status == OrderStatus.Confirmed:
                return No("a confirmed order cannot be cancelled");
            case CancelOrder when status == OrderStatus.Cancelled:
                return Ok;
            case CancelOrder:
                return Change(tx, key, new OrderRow(OrderStatus.Cancelled), command);
            default:
                throw new InvariantViolationException("not an Orders command: " + command.GetType().Name);
        }
    }

    static RecordedAnswer ExecuteInventory(OrderCommand command, LocalTransaction tx)
    {
        string key = HoldKey(command.OrderId);
        StockHold? hold = tx.Read<StockHold>(key);
        switch (command)
        {
            case ReserveStock reserve:
                if (hold is { Status: not HoldStatus.Held })
                {
                    return No("reservation was " + hold.Status.ToString().ToLowerInvariant());
                }

                if (reserve.Lines.Any(line => tx.Read<SkuStock>(SkuKey(line.Sku)) is not { } stock || stock.Available < line.Quantity))
                {
                    return No("insufficient stock");
                }

                // Without an inbox a second ReserveStock holds the units again: the duplicate effect.
                MoveStock(tx, reserve.Lines, held: +1, sold: 0);
                return Change(tx, key, new StockHold(HoldStatus.Held, reserve.Lines, (hold?.Times ?? 0) + 1), command);
            case ReleaseStock release when hold is null:
                return Change(tx, key, new StockHold(HoldStatus.Released, release.Lines, 0), command); // the tombstone
            case ReleaseStock when hold.Status == HoldStatus.Held:
                MoveStock(tx, hold.Lines, held: -hold.Times, sold: 0);
                return Change(tx, key, hold with { Status = HoldStatus.Released }, command);
            case ReleaseStock:
                return hold.Status == HoldStatus.Released ? Ok : No("reservation already committed");
            case CommitStock when hold is { Status: HoldStatus.Held }:
                MoveStock(tx, hold.Lines, held: -hold.Times, sold: hold.Times);
                return Change(tx, key, hold with { Status = HoldStatus.Committed }, command);
            case CommitStock:
                return hold is { Status: HoldStatus.Committed } ? Ok : No("no held reservation to commit");
            default:
                throw new InvariantViolationException("not an Inventory command: " + command.GetType().Name);
        }
    }

    static void MoveStock(LocalTransaction tx, ImmutableArray<OrderLine> lines, int held, int sold)
    {
        foreach (OrderLine line in lines)
        {
            SkuStock stock = tx.Read<SkuStock>(SkuKey(line.Sku)) ?? throw new InvariantViolationException("unknown SKU " + line.Sku);
            var next = stock with { Held = stock.Held + (held * line.Quantity), Sold = stock.Sold + (sold * line.Quantity) };
            Invariant.Assert(next.Held >= 0 && next.Sold >= 0, "stock counts never go negative");
            tx.Write(SkuKey(line.Sku), next);
        }
    }

    static RecordedAnswer ExecutePayments(OrderCommand command, LocalTransaction tx)
    {
        string key = PaymentKey(command.OrderId);
        PaymentRecord payment = tx.Read<PaymentRecord>(key) ?? new PaymentRecord(0, 0, false, false, false);
        switch (command)
        {
            case AuthorizePayment authorize:
                if (payment.Voided)
                {
                    return No("authorization was voided");
                }

                return authorize.AccountId.StartsWith(DeclinedAccountPrefix, StringComparison.Ordinal)
                    ? No("insufficient funds")
                    : Change(tx, key, payment with { Authorizations = payment.Authorizations + 1 }, command);
            case CapturePayment:
                // Without an inbox a second capture charges again: the duplicate effect.
                return payment.Authorizations == 0 || payment.Voided || payment.CaptureBarred
                    ? No("nothing to capture")
                    : Change(tx, key, payment with { Captures = payment.Captures + 1 }, command);
            case VoidAuthorization:
                return payment.Captures > 0 || payment.Voided ? Ok : Change(tx, key, payment with { Voided = true }, command);
            case RefundPayment when payment.Captures == 0:
                return payment.CaptureBarred ? Ok : Change(tx, key, payment with { CaptureBarred = true }, command);
            case RefundPayment:
                return payment.Refunded ? Ok : Change(tx, key, payment with { Refunded = true }, command);
            default:
                throw new InvariantViolationException("not a Payments command: " + command.GetType().Name);
        }
    }

    static RecordedAnswer Change(LocalTransaction tx, string key, object row, OrderCommand command)
    {
        tx.Write(key, row);
        tx.Effect(command.IdempotencyKey);
        return Ok;
    }
}
