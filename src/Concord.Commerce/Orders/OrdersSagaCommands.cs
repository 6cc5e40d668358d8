using Concord.Commerce.Sagas.Commands;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Npgsql;

namespace Concord.Commerce.Orders;

/// <summary>
/// Orders' part of the order saga. PlaceOrder creates the order as <c>pending</c>; the saga's
/// progress moves it along the order state machine (<see cref="ProjectProgressAsync"/>:
/// stock_reserved, payment_authorized, paid); ConfirmOrder takes it from <c>paid</c> to
/// <c>confirmed</c>; CancelOrder cancels it from any status but confirmed.
/// </summary>
public sealed class OrdersSagaCommands : ISagaCommandExecutor
{
    /// <summary>Nothing to take up front: a command touches only its own order (customers are only read).</summary>
    public Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderCommand> commands, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public async Task<SagaCommandResult> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderCommand command, CancellationToken cancellationToken)
    {
        var ct = cancellationToken;
        switch (command)
        {
            case PlaceOrder place:
                await using (var customer = new NpgsqlCommand("SELECT 1 FROM customers WHERE id = @id", connection, transaction))
                {
                    customer.Parameters.AddWithValue("id", place.CustomerId);
                    if (await customer.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                    {
                        return SagaCommandResult.Refused($"customer {place.CustomerId} does not exist");
                    }
                }
                if (await StatusAsync(connection, transaction, place.OrderId, ct).ConfigureAwait(false) is not null)
                {
                    return SagaCommandResult.Refused($"order {place.OrderId} already exists");
                }
                await OrdersApi.InsertOrderAsync(connection, transaction, place.OrderId, place.CustomerId, place.Currency,
                    [.. place.Lines.Select(l => (l.Sku, l.Quantity, l.UnitPriceMinor))], ct).ConfigureAwait(false);
                return SagaCommandResult.Ok;
            case ConfirmOrder confirm:
                if (await MoveAsync(connection, transaction, confirm.OrderId, ["paid"], "confirmed", ct).ConfigureAwait(false))
                {
                    return SagaCommandResult.Ok;
                }
                return await StatusAsync(connection, transaction, confirm.OrderId, ct).ConfigureAwait(false) switch
                {
                    null => SagaCommandResult.Refused($"order {confirm.OrderId} does not exist"),
                    "cancelled" => SagaCommandResult.Refused($"order {confirm.OrderId} is cancelled"),
                    // The saga sends ConfirmOrder in the transaction that marks the order paid, so this is a bug, not a race.
                    var status => throw new InvalidOperationException($"Order {confirm.OrderId} is {status}; only a paid order can be confirmed."),
                };
            case CancelOrder cancel:
                // No order (PlaceOrder never ran, or was refused): nothing to undo; the answer recorded
                // under this key refuses a late PlaceOrder.
                if (await MoveAsync(connection, transaction, cancel.OrderId, ["pending", "stock_reserved", "payment_authorized", "paid"], "cancelled", ct)
                        .ConfigureAwait(false) ||
                    await StatusAsync(connection, transaction, cancel.OrderId, ct).ConfigureAwait(false) is null or "cancelled")
                {
                    return SagaCommandResult.Ok;
                }
                return SagaCommandResult.Refused($"order {cancel.OrderId} is confirmed and cannot be cancelled");
            default:
                throw new InvalidOperationException($"Orders does not execute {command.GetType().Name}.");
        }
    }

    /// <summary>
    /// Moves the order along the state machine as the saga's steps succeed, in the saga's own
    /// transaction (both live in the Orders database): reserve-stock → stock_reserved,
    /// authorize-payment → payment_authorized, capture-payment → paid. Each move is conditional on
    /// the status before it, so a late or repeated success changes nothing.
    /// </summary>
    internal static async Task ProjectProgressAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        SagaState<OrderSagaData, OrderCommand> before, SagaState<OrderSagaData, OrderCommand> after, IReadOnlyList<string> stepNames, CancellationToken ct)
    {
        if (before.Status != SagaStatus.Running)
        {
            return;
        }
        for (var step = 0; step < stepNames.Count; step++)
        {
            if (after.Outcomes[step] != StepOutcome.Succeeded || before.Outcomes[step] == StepOutcome.Succeeded)
            {
                continue;
            }
            (string From, string To)? move = stepNames[step] switch
            {
                OrderSaga.ReserveStockStep => ("pending", "stock_reserved"),
                OrderSaga.AuthorizePaymentStep => ("stock_reserved", "payment_authorized"),
                OrderSaga.CapturePaymentStep => ("payment_authorized", "paid"),
                _ => null,
            };
            if (move is { } m)
            {
                await MoveAsync(connection, transaction, after.Data.OrderId, [m.From], m.To, ct).ConfigureAwait(false);
            }
        }
    }

    static async Task<bool> MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orderId, string[] from, string to, CancellationToken ct)
    {
        await using var update = new NpgsqlCommand(
            "UPDATE orders SET status = @to, version = version + 1, updated_at = now() WHERE id = @id AND status = ANY(@from)", connection, transaction);
        update.Parameters.AddWithValue("id", orderId);
        update.Parameters.AddWithValue("from", from);
        update.Parameters.AddWithValue("to", to);
        return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    static async Task<string?> StatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orderId, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand("SELECT status FROM orders WHERE id = @id", connection, transaction);
        select.Parameters.AddWithValue("id", orderId);
        return (string?)await select.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }
}
