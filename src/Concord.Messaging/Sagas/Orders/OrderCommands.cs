using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Concord.Messaging.Envelopes;

namespace Concord.Messaging.Sagas.Orders;

/// <summary>A line as the saga carries it; mirrors Orders' order_lines (1..1000 units, price in minor units).</summary>
public sealed record OrderLine(string Sku, int Quantity, long UnitPriceMinor);

/// <summary>What the order saga knows about its order. Supplied once, at start; never changes.</summary>
public sealed record OrderSagaData(Guid OrderId, Guid CustomerId, string Currency, string PaymentAccountId, ImmutableArray<OrderLine> Lines)
{
    /// <summary>Orders' own limits: 1 to 100 lines, one per SKU, 1 to 1000 units, unit price at most 10^8 minor units.</summary>
    public const int LinesMax = 100;

    public long TotalMinor => Lines.Sum(l => l.Quantity * l.UnitPriceMinor);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Currency is null || Currency.Length != 3 || !Currency.All(char.IsAsciiLetterUpper))
        {
            problems.Add("currency: three upper-case letters required.");
        }

        if (string.IsNullOrEmpty(PaymentAccountId) || PaymentAccountId.Length > 64)
        {
            problems.Add("paymentAccountId: 1 to 64 characters required.");
        }

        if (Lines.IsDefaultOrEmpty || Lines.Length > LinesMax)
        {
            problems.Add("lines: 1 to 100 required.");
            return problems;
        }

        for (int i = 0; i < Lines.Length; i++)
        {
            OrderLine line = Lines[i];
            if (string.IsNullOrEmpty(line.Sku) || line.Sku.Length > 64 || Lines.Take(i).Any(l => l.Sku == line.Sku))
            {
                problems.Add($"lines[{i}].sku: 1 to 64 characters, once per order.");
            }

            if (line.Quantity is < 1 or > 1000 || line.UnitPriceMinor is < 0 or > 100_000_000)
            {
                problems.Add($"lines[{i}]: quantity within [1, 1000] and unitPriceMinor within [0, 100000000].");
            }
        }

        return problems;
    }
}

/// <summary>
/// Commands the order saga sends. Each carries its idempotency key and nothing attempt-specific:
/// Commerce fingerprints the body under the key, so every retry must be byte-identical.
/// </summary>
public abstract record OrderCommand(Guid OrderId, string IdempotencyKey);

/// <summary>Orders: create the order as <c>pending</c>.</summary>
public sealed record PlaceOrder(Guid OrderId, string IdempotencyKey, Guid CustomerId, string Currency, ImmutableArray<OrderLine> Lines)
    : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Inventory: hold every line's quantity, all or nothing; the service expires the hold after <paramref name="HoldMs"/> as a backstop.</summary>
public sealed record ReserveStock(Guid OrderId, string IdempotencyKey, ImmutableArray<OrderLine> Lines, long HoldMs)
    : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Payments: an <c>authorization</c> transfer holding the order total on the customer's account.</summary>
public sealed record AuthorizePayment(Guid OrderId, string IdempotencyKey, string AccountId, string Currency, long AmountMinor)
    : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Payments: a <c>capture</c> transfer consuming the authorization.</summary>
public sealed record CapturePayment(Guid OrderId, string IdempotencyKey, string AccountId, string Currency, long AmountMinor)
    : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Orders: move the order to <c>confirmed</c> (the pivot: a confirmed order is never cancelled).</summary>
public sealed record ConfirmOrder(Guid OrderId, string IdempotencyKey) : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Inventory: turn the held reservation into a sale.</summary>
public sealed record CommitStock(Guid OrderId, string IdempotencyKey, ImmutableArray<OrderLine> Lines) : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Orders: move the order to <c>cancelled</c>; for an order never created, remember it so a late PlaceOrder is refused.</summary>
public sealed record CancelOrder(Guid OrderId, string IdempotencyKey) : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Inventory: release the order's holds; with none, record the release so a late reservation is refused.</summary>
public sealed record ReleaseStock(Guid OrderId, string IdempotencyKey, ImmutableArray<OrderLine> Lines) : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Payments: a <c>void</c> transfer returning an uncaptured authorization; a no-op if captured, a tombstone if none yet.</summary>
public sealed record VoidAuthorization(Guid OrderId, string IdempotencyKey, string AccountId, string Currency, long AmountMinor)
    : OrderCommand(OrderId, IdempotencyKey);

/// <summary>Payments: a <c>refund</c> transfer returning a capture; with no capture yet, bars a late one.</summary>
public sealed record RefundPayment(Guid OrderId, string IdempotencyKey, string AccountId, string Currency, long AmountMinor)
    : OrderCommand(OrderId, IdempotencyKey);

/// <summary>The order saga's message types and their JSON schemas (version 1).</summary>
public static class OrderSagaMessages
{
    public static MessageCodec Register(MessageCodec codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        OrderSagaJsonContext json = OrderSagaJsonContext.Default;
        return codec
            .Register("order-saga.place-order", 1, json.PlaceOrder)
            .Register("order-saga.reserve-stock", 1, json.ReserveStock)
            .Register("order-saga.authorize-payment", 1, json.AuthorizePayment)
            .Register("order-saga.capture-payment", 1, json.CapturePayment)
            .Register("order-saga.confirm-order", 1, json.ConfirmOrder)
            .Register("order-saga.commit-stock", 1, json.CommitStock)
            .Register("order-saga.cancel-order", 1, json.CancelOrder)
            .Register("order-saga.release-stock", 1, json.ReleaseStock)
            .Register("order-saga.void-authorization", 1, json.VoidAuthorization)
            .Register("order-saga.refund-payment", 1, json.RefundPayment);
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(PlaceOrder))]
[JsonSerializable(typeof(ReserveStock))]
[JsonSerializable(typeof(AuthorizePayment))]
[JsonSerializable(typeof(CapturePayment))]
[JsonSerializable(typeof(ConfirmOrder))]
[JsonSerializable(typeof(CommitStock))]
[JsonSerializable(typeof(CancelOrder))]
[JsonSerializable(typeof(ReleaseStock))]
[JsonSerializable(typeof(VoidAuthorization))]
[JsonSerializable(typeof(RefundPayment))]
internal sealed partial class OrderSagaJsonContext : JsonSerializerContext;
