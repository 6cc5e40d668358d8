using System.Globalization;
using Concord.Commerce.Inventory;
using Concord.Commerce.Orders;
using Concord.Commerce.Payments;
using Concord.Commerce.Sagas;
using Concord.Commerce.Sagas.Commands;
using Concord.Core.Clocks;
using Concord.Messaging.Sagas.Orders;
using Concord.Postgres.Messaging;
using Npgsql;

/// <summary>
/// The saga mode of the crash worker: the order saga's whole host side in one process (start
/// sagas, relay the three outboxes, execute commands, feed replies, fire timers) with crash points
/// between every durable step.
///   Concord.CrashWorker saga ORDERS_DB INVENTORY_DB PAYMENTS_DB BUS_DB CUSTOMER_ID FIRST_ORDER COUNT CRASH_POINT CRASH_AFTER
/// Starts sagas for orders FIRST_ORDER.. (COUNT of them), then works until every saga is terminal
/// and nothing is in flight, SIGKILLing itself the CRASH_AFTER-th time it reaches CRASH_POINT.
/// </summary>
internal static class SagaWorker
{
    /// <summary>Fast timings, so retries and timeouts happen across restarts too.</summary>
    public static readonly OrderSagaTimings Timings = new() { AttemptTimeoutMs = 2_000, StepDeadlineMs = 30_000, BackoffBaseMs = 50, BackoffMaxMs = 400 };

    /// <summary>Order i of a run: deterministic, so a test can tell what it asked for. Every fourth pays from an empty account.</summary>
    public static OrderSagaData Order(int i, Guid customer) => new(
        Guid.Parse($"00000000-0000-4000-8000-{i:D12}", CultureInfo.InvariantCulture), customer, "EUR", i % 4 == 3 ? "poor" : "rich",
        i % 2 == 0 ? [new OrderLine("MUG-1", 1 + (i % 3), 1_000), new OrderLine("TEE-1", 1, 2_500)] : [new OrderLine("MUG-1", 1 + (i % 3), 1_000)]);

    public static async Task<int> RunAsync(string[] args, Action<string> point)
    {
        if (args.Length != 9)
        {
            Console.Error.WriteLine("usage: Concord.CrashWorker saga ORDERS_DB INVENTORY_DB PAYMENTS_DB BUS_DB CUSTOMER_ID FIRST_ORDER COUNT CRASH_POINT CRASH_AFTER");
            return 2;
        }
        await using var orders = NpgsqlDataSource.Create(args[0]);
        await using var inventory = NpgsqlDataSource.Create(args[1]);
        await using var payments = NpgsqlDataSource.Create(args[2]);
        await using var bus = NpgsqlDataSource.Create(args[3]);
        var customer = Guid.Parse(args[4], CultureInfo.InvariantCulture);
        var first = int.Parse(args[5], CultureInfo.InvariantCulture);
        var count = int.Parse(args[6], CultureInfo.InvariantCulture);
        var time = TimeProvider.System;
        var clock = new HybridLogicalClock(time, 500);
        var runtime = new OrderSagaRuntime(orders, new SagaStoreOptions { Timings = Timings }, time, clock);

        for (var i = first; i < first + count; i++)
        {
            await runtime.StartAsync(Order(i, customer), CancellationToken.None);
            point("after-start");
        }

        var transport = new CrashingTransport(new PostgresQueueTransport(bus, m => SagaWire.Route(m.Type)), point);
        var relays = new[] { orders, inventory, payments }.Select(db => new OutboxRelay(db, transport, new RelayOptions { BatchSizeMax = 8 }, time)).ToList();
        var consumers = new (QueueConsumer Queue, Func<IReadOnlyList<OutboxMessage>, CancellationToken, Task> Handle, string Name)[]
        {
            (new QueueConsumer(bus, SagaWire.Queues.Orders, 4), new SagaCommandConsumer("orders", orders, new OrdersSagaCommands(), clock).HandleAsync, "command"),
            (new QueueConsumer(bus, SagaWire.Queues.Inventory, 4), new SagaCommandConsumer("inventory", inventory, new InventorySagaCommands(), clock).HandleAsync, "command"),
            (new QueueConsumer(bus, SagaWire.Queues.Payments, 4), new SagaCommandConsumer("payments", payments, new PaymentsSagaCommands(), clock).HandleAsync, "command"),
            (new QueueConsumer(bus, SagaWire.Queues.Sagas, 4), runtime.HandleRepliesAsync, "reply"),
        };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var progress = 0;
            foreach (var relay in relays)
            {
                progress += await relay.PublishBatchAsync(CancellationToken.None);
            }
            foreach (var (queue, handle, name) in consumers)
            {
                progress += await queue.ConsumeBatchAsync(async (messages, ct) =>
                {
                    point("before-" + name);
                    await handle(messages, ct);
                    point(name + "-handled"); // committed in the service, not yet acknowledged on the bus
                }, CancellationToken.None);
            }
            var fired = await runtime.FireDueTimersAsync(CancellationToken.None);
            if (fired > 0)
            {
                point("timers-fired");
            }
            progress += fired;
            if (progress == 0)
            {
                if (await SettledAsync(orders, inventory, payments, bus))
                {
                    return 0;
                }
                await Task.Delay(20);
            }
        }
        Console.Error.WriteLine("the sagas did not settle within 120 s");
        return 1;
    }

    static async Task<bool> SettledAsync(params NpgsqlDataSource[] databases)
    {
        var checks = new (NpgsqlDataSource Db, string Sql)[]
        {
            (databases[0], "SELECT count(*) FROM saga_instances WHERE status IN ('running', 'compensating')"),
            (databases[0], "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            (databases[1], "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            (databases[2], "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            (databases[3], "SELECT count(*) FROM queue_messages"),
        };
        foreach (var (db, sql) in checks)
        {
            await using var command = db.CreateCommand(sql);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return false;
            }
        }
        return true;
    }
}
