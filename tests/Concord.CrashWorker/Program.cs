using System.Diagnostics;
using System.Globalization;
using System.Text;
using Concord.Postgres.Messaging;
using Npgsql;

// The crash worker: a stand-in service whose process the crash tests kill at chosen points.
//   Concord.CrashWorker MODE SERVICE_DB BUS_DB FIRST_ID COUNT CRASH_POINT CRASH_AFTER
// MODE is outbox, dual-write or recover. It records business rows ("payments") with ids
// FIRST_ID.., announces each as a message, relays and consumes, and SIGKILLs itself the
// CRASH_AFTER-th time it reaches CRASH_POINT (none: never). Exit code 0 means it finished.
// MODE saga runs the order saga instead (SagaWorker.cs).
if (args.Length > 0 && args[0] == "saga")
{
    var sagaHits = 0;
    return await SagaWorker.RunAsync(args[1..], name =>
    {
        if (name == args[^2] && ++sagaHits == int.Parse(args[^1], CultureInfo.InvariantCulture))
        {
            Process.GetCurrentProcess().Kill();
        }
    });
}
if (args.Length != 7)
{
    Console.Error.WriteLine("usage: Concord.CrashWorker outbox|dual-write|recover SERVICE_DB BUS_DB FIRST_ID COUNT CRASH_POINT CRASH_AFTER");
    return 2;
}
var (mode, serviceDb, busDb) = (args[0], args[1], args[2]);
var firstId = int.Parse(args[3], CultureInfo.InvariantCulture);
var count = int.Parse(args[4], CultureInfo.InvariantCulture);
var crashPoint = args[5];
var crashAfter = int.Parse(args[6], CultureInfo.InvariantCulture);
var hits = 0;

void Point(string name)
{
    if (name == crashPoint && ++hits == crashAfter)
    {
        Process.GetCurrentProcess().Kill(); // SIGKILL: no finally blocks, no flush, like a power cut for this process
    }
}

await using var service = NpgsqlDataSource.Create(serviceDb);
await using var bus = NpgsqlDataSource.Create(busDb);
var transport = new CrashingTransport(new PostgresQueueTransport(bus, _ => ["payments"]), Point);

static OutboxMessage Announce(int id) =>
    new($"payment-{id}", "payment.recorded", $"account-{id % 5}", Encoding.UTF8.GetBytes(id.ToString(CultureInfo.InvariantCulture)));

for (var id = firstId; id < firstId + count && mode != "recover"; id++)
{
    await using var connection = await service.OpenConnectionAsync();
    await using var transaction = await connection.BeginTransactionAsync();
    await using (var insert = new NpgsqlCommand("INSERT INTO payments (id) VALUES (@id)", connection, transaction))
    {
        insert.Parameters.AddWithValue("id", id);
        await insert.ExecuteNonQueryAsync();
    }
    if (mode == "outbox")
    {
        await Outbox.AppendAsync(connection, transaction, Announce(id), CancellationToken.None);
        Point("before-commit");
        await transaction.CommitAsync();
        Point("after-commit");
    }
    else if (id % 2 == 0)
    {
        // Dual write, commit first: a crash between commit and publish loses the event.
        Point("before-commit");
        await transaction.CommitAsync();
        Point("after-commit");
        await DualWrite.PublishAfterCommitAsync(transport, Announce(id), CancellationToken.None);
    }
    else
    {
        // Dual write, publish first: a crash before the commit leaves a ghost event.
        await DualWrite.PublishAfterCommitAsync(transport, Announce(id), CancellationToken.None);
        Point("before-commit");
        await transaction.CommitAsync();
        Point("after-commit");
    }
}

// Relay (outbox mode and recovery) and consume: a ledger of effects, deduplicated by the inbox.
var relay = new OutboxRelay(service, transport, new RelayOptions { BatchSizeMax = 3 }, TimeProvider.System);
var consumer = new QueueConsumer(bus, "payments", batchSizeMax: 3);
while (true)
{
    var published = mode == "dual-write" ? 0 : await relay.PublishBatchAsync(CancellationToken.None);
    var consumed = await consumer.ConsumeBatchAsync(async (messages, ct) =>
    {
        // The whole claimed batch in one transaction: inbox records and effects commit together.
        await using var connection = await service.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var fresh = await Inbox.TryRecordManyAsync(connection, transaction, "ledger", [.. messages.Select(m => m.Id)], ct);
        await using (var effect = new NpgsqlCommand("INSERT INTO ledger_effects (message_id) SELECT unnest(@ids)", connection, transaction))
        {
            effect.Parameters.AddWithValue("ids", fresh.ToArray());
            await effect.ExecuteNonQueryAsync(ct);
        }
        Point("mid-consume-before-commit");
        await transaction.CommitAsync(ct);
        Point("mid-consume-after-commit");
    }, CancellationToken.None);
    if (published == 0 && consumed == 0)
    {
        break;
    }
}
return 0;

/// <summary>Crash points inside the relay: after the queue insert, before the outbox rows are marked.</summary>
sealed class CrashingTransport(IMessageTransport inner, Action<string> point) : IMessageTransport
{
    public async Task PublishAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        point("before-publish");
        await inner.PublishAsync(messages, cancellationToken);
        point("mid-relay");
    }
}
