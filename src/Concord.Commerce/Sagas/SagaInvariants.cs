using System.Globalization;
using Npgsql;

namespace Concord.Commerce.Sagas;

/// <summary>What <see cref="SagaInvariants.CheckAsync"/> found: the counts it compared, and every violation in words.</summary>
public sealed record SagaInvariantReport(
    int Sagas, int Completed, int Compensated, int ConfirmedOrders, long CapturedMinor, long ConfirmedTotalMinor, int DuplicateEffects,
    IReadOnlyList<string> Violations)
{
    public bool Holds => Violations.Count == 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Sagas} sagas ({Completed} completed, {Compensated} compensated), {ConfirmedOrders} confirmed orders, captured {CapturedMinor} vs confirmed totals {ConfirmedTotalMinor}, {DuplicateEffects} duplicate effects; ") +
        (Holds ? "invariants hold" : "violations: " + string.Join("; ", Violations));
}

/// <summary>
/// The order saga's business invariants across the three databases, read after the sagas have
/// settled (every saga terminal, nothing in flight): the checker the end-to-end and crash tests
/// share. Each service's schema enforces its own rules at every commit; this checks the rules no
/// one database can see, and counts effects applied twice.
/// </summary>
public static class SagaInvariants
{
    public static async Task<SagaInvariantReport> CheckAsync(NpgsqlDataSource orders, NpgsqlDataSource inventory, NpgsqlDataSource payments,
        CancellationToken cancellationToken)
    {
        var ct = cancellationToken;
        var violations = new List<string>();
        void Expect(bool holds, string violation)
        {
            if (!holds)
            {
                violations.Add(violation);
            }
        }

        // Sagas and orders (Orders database).
        var sagas = await RowsAsync(orders, "SELECT saga_id, status, (state -> 'data' ->> 'orderId') FROM saga_instances", ct);
        var orderStatus = (await RowsAsync(orders, "SELECT id::text, status FROM orders", ct)).ToDictionary(r => r[0], r => r[1]);
        foreach (var saga in sagas)
        {
            var status = orderStatus.GetValueOrDefault(saga[2]);
            switch (saga[1])
            {
                case "completed":
                    Expect(status == "confirmed", $"saga {saga[0]} completed but its order is {status ?? "missing"}");
                    break;
                case "compensated":
                    Expect(status is null or "cancelled", $"saga {saga[0]} compensated but its order is {status}");
                    break;
                default:
                    violations.Add($"saga {saga[0]} is still {saga[1]}");
                    break;
            }
        }
        var confirmedLines = (await RowsAsync(orders, """
            SELECT l.sku, sum(l.quantity)::text FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'confirmed' GROUP BY l.sku
            """, ct)).ToDictionary(r => r[0], r => long.Parse(r[1], CultureInfo.InvariantCulture));
        var confirmedTotal = await ScalarAsync(orders, "SELECT coalesce(sum(total_minor), 0) FROM orders WHERE status = 'confirmed'", ct);
        var confirmedOrders = (int)await ScalarAsync(orders, "SELECT count(*) FROM orders WHERE status = 'confirmed'", ct);

        // Stock (Inventory database).
        foreach (var bad in await RowsAsync(inventory, """
            SELECT s.sku || ': on hand ' || s.on_hand || ', reserved ' || s.reserved || ', held ' || coalesce(h.held, 0)
              FROM stock s LEFT JOIN (SELECT sku, sum(quantity) AS held FROM reservations WHERE state = 'held' GROUP BY sku) h ON h.sku = s.sku
             WHERE s.on_hand < 0 OR s.reserved > s.on_hand OR s.reserved <> coalesce(h.held, 0)
            """, ct))
        {
            violations.Add("stock " + bad[0]);
        }
        var committed = (await RowsAsync(inventory, "SELECT sku, sum(quantity)::text FROM reservations WHERE state = 'committed' GROUP BY sku", ct))
            .ToDictionary(r => r[0], r => long.Parse(r[1], CultureInfo.InvariantCulture));
        foreach (var sku in committed.Keys.Union(confirmedLines.Keys))
        {
            Expect(committed.GetValueOrDefault(sku) == confirmedLines.GetValueOrDefault(sku),
                $"{sku}: {committed.GetValueOrDefault(sku)} sold in Inventory, {confirmedLines.GetValueOrDefault(sku)} on confirmed orders");
        }
        foreach (var held in await RowsAsync(inventory, "SELECT order_id::text, sku FROM reservations WHERE state = 'held'", ct))
        {
            Expect(!orderStatus.TryGetValue(held[0], out var status) || status is not ("confirmed" or "cancelled"),
                $"order {held[0]} is settled but still holds {held[1]}");
        }

        // Money (Payments database).
        Expect(await ScalarAsync(payments, "SELECT coalesce(sum(amount_minor) FILTER (WHERE side = 'debit'), 0) - coalesce(sum(amount_minor) FILTER (WHERE side = 'credit'), 0) FROM postings", ct) == 0,
            "the ledger's debits and credits differ");
        Expect(await ScalarAsync(payments, "SELECT count(*) FROM accounts WHERE balance_minor < floor_minor", ct) == 0, "an account is below its floor");
        Expect(await ScalarAsync(payments, """
            SELECT count(*) FROM accounts a
             WHERE a.balance_minor <> (SELECT coalesce(sum(CASE p.side WHEN 'credit' THEN p.amount_minor ELSE -p.amount_minor END), 0) FROM postings p WHERE p.account_id = a.id)
            """, ct) == 0, "an account's balance is not the sum of its postings");
        var captured = await ScalarAsync(payments, """
            SELECT coalesce(sum(p.amount_minor) FILTER (WHERE t.kind = 'capture'), 0) - coalesce(sum(p.amount_minor) FILTER (WHERE t.kind = 'refund'), 0)
              FROM transfers t JOIN postings p ON p.transfer_id = t.id AND p.side = 'debit' WHERE t.kind IN ('capture', 'refund')
            """, ct);
        Expect(captured == confirmedTotal, string.Create(CultureInfo.InvariantCulture, $"captured money ({captured}) is not the confirmed orders' total ({confirmedTotal})"));
        Expect(await ScalarAsync(payments, "SELECT coalesce(sum(balance_minor), 0) FROM accounts WHERE id LIKE 'authorizations:%'", ct) == 0,
            "authorizations are left neither captured nor voided");

        // Effects applied twice: every saga transfer carries its command's idempotency key as reference.
        var duplicates = (int)await ScalarAsync(payments,
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM transfers WHERE reference LIKE 'order-%' GROUP BY reference) t", ct);
        Expect(duplicates == 0, $"{duplicates} transfers repeat a saga command");
        return new SagaInvariantReport(sagas.Count, sagas.Count(s => s[1] == "completed"), sagas.Count(s => s[1] == "compensated"), confirmedOrders,
            captured, confirmedTotal, duplicates, violations);
    }

    static async Task<long> ScalarAsync(NpgsqlDataSource database, string sql, CancellationToken ct)
    {
        await using var command = database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    static async Task<List<string[]>> RowsAsync(NpgsqlDataSource database, string sql, CancellationToken ct)
    {
        await using var command = database.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<string[]>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : reader.GetValue(i).ToString()!)]);
        }
        return rows;
    }
}
