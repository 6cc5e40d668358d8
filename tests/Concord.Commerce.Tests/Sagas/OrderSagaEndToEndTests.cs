using System.Net.Http.Json;
using System.Text.Json;
using Concord.Commerce.Sagas.Commands;
using Concord.Postgres.Messaging;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests.Sagas;

/// <summary>
/// The order saga end to end over real HTTP on loopback: checkout starts it, the services' relays
/// and consumers carry its commands and replies through the bus, and it ends Confirmed (stock sold,
/// money captured) or Compensated (stock released, authorization voided, order cancelled).
/// </summary>
public sealed class OrderSagaEndToEndTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Orders_confirm_or_compensate_and_redelivered_or_reordered_messages_change_nothing()
    {
        await using var bed = await SagaTestbed.StartAsync(fixture);
        var customer = await bed.CustomerAsync("saga-buyer@example.com");
        await bed.StockAsync("MUG-1", 10);
        await bed.StockAsync("TEE-1", 5);
        await bed.AccountAsync("rich", 100_000);
        await bed.AccountAsync("poor", 100);

        var paid = await bed.CheckoutAsync(customer, "rich", ("MUG-1", 2, 1_250), ("TEE-1", 1, 2_000));
        var tooMany = await bed.CheckoutAsync(customer, "rich", ("MUG-1", 50, 1_250));
        var declined = await bed.CheckoutAsync(customer, "poor", ("MUG-1", 3, 1_250));
        await bed.SettleAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("completed", await bed.SagaStatusAsync(paid.SagaId));
        Assert.Equal("confirmed", await bed.OrderStatusAsync(paid.OrderId));
        Assert.Equal("compensated", await bed.SagaStatusAsync(tooMany.SagaId));
        Assert.Equal("cancelled", await bed.OrderStatusAsync(tooMany.OrderId));
        Assert.Equal("compensated", await bed.SagaStatusAsync(declined.SagaId));
        Assert.Equal("cancelled", await bed.OrderStatusAsync(declined.OrderId));

        var mug = await bed.Server.Client.GetFromJsonAsync<JsonElement>("/inventory/skus/MUG-1", Cancel);
        Assert.Equal((8, 0), (mug.GetProperty("onHand").GetInt32(), mug.GetProperty("reserved").GetInt32()));
        var declinedHold = await bed.Server.Client.GetFromJsonAsync<JsonElement>($"/inventory/reservations/{declined.OrderId}/MUG-1", Cancel);
        Assert.Equal("released", declinedHold.GetProperty("state").GetString());
        Assert.Equal(100_000 - 4_500, await BalanceAsync(bed, "rich"));
        Assert.Equal(100, await BalanceAsync(bed, "poor"));
        Assert.Equal(4_500, await BalanceAsync(bed, "revenue:eur"));
        var history = await bed.Server.Client.GetFromJsonAsync<JsonElement>($"/sagas/{declined.SagaId}", Cancel);
        Assert.Contains("insufficient funds", history.GetProperty("history").EnumerateArray().Last(t => t.GetProperty("note").GetString()!.Contains("failed")).GetProperty("note").GetString());

        var report = await bed.CheckInvariantsAsync();
        Assert.True(report.Holds, report.ToString());
        Assert.Equal((3, 1, 2, 4_500L), (report.Sagas, report.Completed, report.Compensated, report.CapturedMinor));
        var before = await SnapshotAsync(bed);

        // GET /metrics shows what just happened (at least: other tests in this process feed the
        // same instruments).
        var metrics = await bed.Server.Client.GetStringAsync("/metrics", Cancel);
        Assert.True(MetricSum(metrics, "concord_saga_duration_seconds_count", "saga_outcome=\"completed\"") >= 1, metrics);
        Assert.True(MetricSum(metrics, "concord_saga_duration_seconds_count", "saga_outcome=\"compensated\"") >= 2, metrics);
        Assert.True(MetricSum(metrics, "concord_saga_compensations_total") >= 2, metrics);
        Assert.True(MetricSum(metrics, "concord_outbox_published_total") >= 3 * 6, metrics);
        Assert.True(MetricSum(metrics, "concord_queue_consumed_total") >= 3 * 6, metrics);

        // Every message the services ever published, again, newest first: once as a redelivery (same
        // message id: the inboxes skip it) and once as a re-sent command or reply (a new message id,
        // the same idempotency key: the recorded answer is sent again and the saga ignores it).
        var published = new List<OutboxMessage>();
        foreach (var db in new[] { bed.Orders, bed.Inventory, bed.Payments })
        {
            await using var select = db.CreateCommand("SELECT message_id, message_type, partition_key, payload FROM outbox");
            await using var reader = await select.ExecuteReaderAsync(Cancel);
            while (await reader.ReadAsync(Cancel))
            {
                published.Add(new OutboxMessage(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3)));
            }
        }
        Assert.True(published.Count >= 3 * 6, $"only {published.Count} messages were published");
        published.Reverse();
        var transport = new PostgresQueueTransport(bed.Bus, m => SagaWire.Route(m.Type));
        await transport.PublishAsync([.. published, .. published.Select(m => m with { Id = m.Id + (m.Type == SagaReply.MessageType ? ":copy" : ":retry") })], Cancel);
        await bed.SettleAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(before, await SnapshotAsync(bed));
        report = await bed.CheckInvariantsAsync();
        Assert.True(report.Holds, report.ToString());
        await using (var consumed = bed.Orders.CreateCommand("SELECT count(*) FROM inbox WHERE consumer = 'order-saga'"))
        {
            // Replies the saga consumed: each original, each re-sent copy, and one answer to each
            // re-sent command (as many as the original replies); the redeliveries were skipped.
            Assert.Equal(3L * published.Count(m => m.Type == SagaReply.MessageType), (long)(await consumed.ExecuteScalarAsync(Cancel))!);
        }
        await using (var batched = bed.Orders.CreateCommand(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM inbox WHERE consumer = 'order-saga' GROUP BY xmin::text) AS per_transaction"))
        {
            // The copies arrived all at once, so the saga took several sagas' replies in one transaction (inbox rows share its xmin).
            Assert.True((long)(await batched.ExecuteScalarAsync(Cancel))! > 1);
        }

        // Negative control: the same checker catches a capture applied twice.
        await bed.Server.Databases[CommerceService.Payments].ExecuteAsApp(
            $"INSERT INTO transfers (id, currency, kind, reference) VALUES ('{Guid.NewGuid()}', 'EUR', 'capture', '{paid.SagaId}:capture-payment:do')",
            $"INSERT INTO postings (transfer_id, account_id, currency, side, amount_minor) SELECT id, 'world', 'EUR', 'debit', 4500 FROM transfers WHERE kind = 'capture' AND created_by_xact = pg_current_xact_id()",
            $"INSERT INTO postings (transfer_id, account_id, currency, side, amount_minor) SELECT id, 'revenue:eur', 'EUR', 'credit', 4500 FROM transfers WHERE kind = 'capture' AND created_by_xact = pg_current_xact_id()");
        report = await bed.CheckInvariantsAsync();
        Assert.False(report.Holds);
        Assert.Equal(1, report.DuplicateEffects);
        Assert.Contains(report.Violations, v => v.StartsWith("captured money", StringComparison.Ordinal));
    }

    /// <summary>The sum of a metric's samples in a Prometheus text exposition, over the series whose labels contain <paramref name="label"/>.</summary>
    static double MetricSum(string exposition, string name, string label = "") =>
        exposition.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => line.Contains(label, StringComparison.Ordinal))
            .Sum(line => double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));

    static async Task<long> BalanceAsync(SagaTestbed bed, string account) =>
        (await bed.Server.Client.GetFromJsonAsync<JsonElement>($"/payments/accounts/{account}", Cancel)).GetProperty("balanceMinor").GetInt64();

    /// <summary>Every effect the saga can have, as one comparable string: stock, holds, balances, transfers, orders, saga versions.</summary>
    static async Task<string> SnapshotAsync(SagaTestbed bed)
    {
        var parts = new List<string>();
        async Task Read(NpgsqlDataSource db, string sql)
        {
            await using var command = db.CreateCommand(sql);
            parts.Add((string?)await command.ExecuteScalarAsync(Cancel) ?? "");
        }
        await Read(bed.Inventory, "SELECT string_agg(sku || '=' || on_hand || '/' || reserved || '/v' || version, ',' ORDER BY sku) FROM stock");
        await Read(bed.Inventory, "SELECT string_agg(order_id || sku || state || version, ',' ORDER BY order_id, sku) FROM reservations");
        await Read(bed.Payments, "SELECT string_agg(id || '=' || balance_minor || '/v' || version, ',' ORDER BY id) FROM accounts");
        await Read(bed.Payments, "SELECT count(*)::text FROM transfers");
        await Read(bed.Orders, "SELECT string_agg(id || status || version, ',' ORDER BY id) FROM orders");
        await Read(bed.Orders, "SELECT string_agg(saga_id || status || version, ',' ORDER BY saga_id) FROM saga_instances");
        return string.Join("\n", parts);
    }
}
