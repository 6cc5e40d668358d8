using System.Globalization;
using Concord.Commerce.Sagas.Commands;
using Concord.Messaging.Sagas.Orders;
using Npgsql;

namespace Concord.Commerce.Inventory;

/// <summary>
/// Inventory's part of the order saga: reserve every line or none (a hold that expires), release
/// the holds, commit them as a sale. Stock rows are locked in SKU order first, so two orders
/// reserving overlapping SKUs queue up instead of deadlocking.
/// </summary>
public sealed class InventorySagaCommands : ISagaCommandExecutor
{
    public Task<SagaCommandResult> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderCommand command, CancellationToken cancellationToken) =>
        command switch
        {
            ReserveStock reserve => ReserveAsync(connection, transaction, reserve, cancellationToken),
            ReleaseStock release => ReleaseAsync(connection, transaction, release, cancellationToken),
            CommitStock commit => CommitAsync(connection, transaction, commit, cancellationToken),
            _ => throw new InvalidOperationException($"Inventory does not execute {command.GetType().Name}."),
        };

    /// <summary>Every SKU the batch touches, in SKU order (as <see cref="LockStockAsync"/> locks one command's), before any command runs.</summary>
    public async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderCommand> commands, CancellationToken cancellationToken)
    {
        var skus = commands.SelectMany(command => command switch
        {
            ReserveStock reserve => reserve.Lines.Select(l => l.Sku),
            ReleaseStock release => release.Lines.Select(l => l.Sku),
            CommitStock commit => commit.Lines.Select(l => l.Sku),
            _ => [],
        }).Distinct(StringComparer.Ordinal).ToArray();
        if (commands.Count > 1 && skus.Length > 0)
        {
            await LockStockAsync(connection, transaction, skus, cancellationToken).ConfigureAwait(false);
        }
    }

    static async Task<SagaCommandResult> ReserveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ReserveStock reserve, CancellationToken ct)
    {
        var skus = reserve.Lines.Select(l => l.Sku).ToArray();
        var available = await LockStockAsync(connection, transaction, skus, ct).ConfigureAwait(false);
        var missing = reserve.Lines.Where(l => !available.ContainsKey(l.Sku)).Select(l => l.Sku).ToList();
        if (missing.Count > 0)
        {
            return SagaCommandResult.Refused("unknown SKU: " + string.Join(", ", missing));
        }
        var shortLines = reserve.Lines.Where(l => available[l.Sku] < l.Quantity).ToList();
        if (shortLines.Count > 0)
        {
            return SagaCommandResult.Refused("out of stock: " + string.Join(", ",
                shortLines.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Quantity} × {l.Sku} requested, {available[l.Sku]} available"))));
        }
        await using var hold = new NpgsqlCommand("""
            WITH wanted AS (SELECT * FROM unnest(@skus, @quantities) AS w(sku, quantity)),
            held AS (
                UPDATE stock s SET reserved = s.reserved + w.quantity, version = s.version + 1, updated_at = now()
                  FROM wanted w WHERE s.sku = w.sku AND s.on_hand - s.reserved >= w.quantity
                RETURNING s.sku, w.quantity)
            INSERT INTO reservations (order_id, sku, quantity, expires_at)
            SELECT @order_id, sku, quantity, now() + make_interval(secs => @hold_seconds) FROM held
            """, connection, transaction);
        hold.Parameters.AddWithValue("skus", skus);
        hold.Parameters.AddWithValue("quantities", reserve.Lines.Select(l => l.Quantity).ToArray());
        hold.Parameters.AddWithValue("order_id", reserve.OrderId);
        hold.Parameters.AddWithValue("hold_seconds", Math.Max(1, reserve.HoldMs / 1000.0));
        var held = await hold.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        // The rows are locked and were checked above, so every line is held; anything else is a bug.
        return held == reserve.Lines.Length
            ? SagaCommandResult.Ok
            : throw new InvalidOperationException($"Order {reserve.OrderId}: {held} of {reserve.Lines.Length} lines held after the check passed.");
    }

    static async Task<SagaCommandResult> ReleaseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ReleaseStock release, CancellationToken ct)
    {
        await LockStockAsync(connection, transaction, release.Lines.Select(l => l.Sku).ToArray(), ct).ConfigureAwait(false);
        // Nothing held (never reserved, or already released by the expiry sweeper) is a successful undo.
        await MoveHeldAsync(connection, transaction, release.OrderId, "released", "s.on_hand", ct).ConfigureAwait(false);
        return SagaCommandResult.Ok;
    }

    static async Task<SagaCommandResult> CommitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CommitStock commit, CancellationToken ct)
    {
        var skus = commit.Lines.Select(l => l.Sku).ToArray();
        var available = await LockStockAsync(connection, transaction, skus, ct).ConfigureAwait(false);
        await MoveHeldAsync(connection, transaction, commit.OrderId, "committed", "s.on_hand - r.quantity", ct).ConfigureAwait(false);

        // A hold the expiry sweeper released (the saga stalled past ReservationHoldMs) is sold from
        // what is available now: the order is confirmed and paid, so the sale must go through.
        var expired = new List<(string Sku, int Quantity)>();
        await using (var select = new NpgsqlCommand(
            "SELECT sku, quantity FROM reservations WHERE order_id = @order_id AND state = 'released'", connection, transaction))
        {
            select.Parameters.AddWithValue("order_id", commit.OrderId);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                expired.Add((reader.GetString(0), reader.GetInt32(1)));
            }
        }
        if (expired.Count == 0)
        {
            return SagaCommandResult.Ok;
        }
        if (expired.FirstOrDefault(e => available[e.Sku] < e.Quantity) is { Sku: not null } shortLine)
        {
            // Not a refusal: a retriable step must succeed, so this is left unanswered and retried
            // (by the queue, then by the saga) until stock is back.
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Order {commit.OrderId}: the hold of {shortLine.Sku} expired and {available[shortLine.Sku]} of {shortLine.Quantity} are available now."));
        }
        await using var retake = new NpgsqlCommand("""
            WITH r AS (
                UPDATE reservations SET state = 'committed', version = version + 1
                 WHERE order_id = @order_id AND state = 'released'
                RETURNING sku, quantity)
            UPDATE stock s SET on_hand = s.on_hand - r.quantity, version = s.version + 1, updated_at = now()
              FROM r WHERE s.sku = r.sku
            """, connection, transaction);
        retake.Parameters.AddWithValue("order_id", commit.OrderId);
        await retake.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return SagaCommandResult.Ok;
    }

    /// <summary>Locks the SKUs' stock rows in SKU order and returns what each has available.</summary>
    static async Task<Dictionary<string, int>> LockStockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] skus, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand(
            "SELECT sku, on_hand - reserved FROM stock WHERE sku = ANY(@skus) ORDER BY sku FOR UPDATE", connection, transaction);
        select.Parameters.AddWithValue("skus", skus);
        var available = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            available[reader.GetString(0)] = reader.GetInt32(1);
        }
        return available;
    }

    /// <summary>Moves the order's held reservations to <paramref name="target"/> and takes them off reserved (and off on hand for a sale).</summary>
    static async Task MoveHeldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orderId, string target, string onHandAfter, CancellationToken ct)
    {
        await using var move = new NpgsqlCommand($"""
            WITH r AS (
                UPDATE reservations SET state = @target, version = version + 1
                 WHERE order_id = @order_id AND state = 'held'
                RETURNING sku, quantity)
            UPDATE stock s SET on_hand = {onHandAfter}, reserved = s.reserved - r.quantity, version = s.version + 1, updated_at = now()
              FROM r WHERE s.sku = r.sku
            """, connection, transaction);
        move.Parameters.AddWithValue("order_id", orderId);
        move.Parameters.AddWithValue("target", target);
        await move.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
