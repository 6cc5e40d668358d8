using System.Collections.Concurrent;
using System.Text;
using Concord.Postgres.Messaging;
using Concord.Postgres.Migrations;
using Concord.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Concord.Postgres.Tests;

public sealed class MessagingTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    sealed record Databases(NpgsqlDataSource Service, NpgsqlDataSource Bus) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Service.DisposeAsync();
            await Bus.DisposeAsync();
        }
    }

    async Task<Databases> CreateAsync()
    {
        var service = await fixture.CreateDatabaseAsync();
        var bus = await fixture.CreateDatabaseAsync();
        await MigrationRunner.ApplyAsync(service, MessagingSchemas.OutboxAndInbox, Cancel);
        await MigrationRunner.ApplyAsync(bus, MessagingSchemas.Queues, Cancel);
        return new Databases(NpgsqlDataSource.Create(service), NpgsqlDataSource.Create(bus));
    }

    static OutboxMessage Message(string key, int sequence) =>
        new($"{key}-{sequence}", "test.event", key, Encoding.UTF8.GetBytes($"{key}:{sequence}"));

    static async Task AppendAsync(NpgsqlDataSource db, OutboxMessage message, bool commit = true)
    {
        await using var connection = await db.OpenConnectionAsync(Cancel);
        await using var transaction = await connection.BeginTransactionAsync(Cancel);
        await Outbox.AppendAsync(connection, transaction, message, Cancel);
        if (commit)
        {
            await transaction.CommitAsync(Cancel);
        }
        else
        {
            await transaction.RollbackAsync(Cancel);
        }
    }

    static async Task<List<string>> QueueAsync(NpgsqlDataSource bus, string queue = "q")
    {
        await using var select = bus.CreateCommand("SELECT message_id FROM queue_messages WHERE queue = @queue ORDER BY position");
        select.Parameters.AddWithValue("queue", queue);
        await using var reader = await select.ExecuteReaderAsync(Cancel);
        var ids = new List<string>();
        while (await reader.ReadAsync(Cancel))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    [Fact]
    public async Task Only_committed_messages_are_published_and_in_order()
    {
        await using var db = await CreateAsync();
        var relay = new OutboxRelay(db.Service, new PostgresQueueTransport(db.Bus, _ => ["q"]), new RelayOptions(), TimeProvider.System);
        await AppendAsync(db.Service, Message("a", 1));
        await AppendAsync(db.Service, Message("a", 2), commit: false); // rolled back: must never be published
        await AppendAsync(db.Service, Message("a", 3));
        await AppendAsync(db.Service, Message("b", 1));

        Assert.Equal(3, await relay.PublishBatchAsync(Cancel));
        Assert.Equal(0, await relay.PublishBatchAsync(Cancel));
        Assert.Equal(["a-1", "a-3", "b-1"], await QueueAsync(db.Bus));
    }

    [Fact]
    public async Task Several_relays_at_once_deliver_every_message_and_keep_each_keys_order()
    {
        await using var db = await CreateAsync();
        var transport = new PostgresQueueTransport(db.Bus, _ => ["q"]);
        const int keys = 12, perKey = 25;

        using var writersDone = new CancellationTokenSource();
        var writers = Enumerable.Range(0, keys).Select(k => Task.Run(async () =>
        {
            for (var i = 1; i <= perKey; i++)
            {
                await AppendAsync(db.Service, Message($"k{k}", i));
            }
        }, Cancel)).ToList();
        var relays = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var relay = new OutboxRelay(db.Service, transport, new RelayOptions { BatchSizeMax = 7 }, TimeProvider.System);
            while (!writersDone.IsCancellationRequested || await relay.PublishBatchAsync(Cancel) > 0)
            {
                await relay.PublishBatchAsync(Cancel);
            }
        }, Cancel)).ToList();
        await Task.WhenAll(writers);
        await writersDone.CancelAsync();
        await Task.WhenAll(relays);

        var queued = await QueueAsync(db.Bus);
        var firsts = queued.Distinct().ToList(); // at least once: order is judged on first deliveries
        Assert.Equal(keys * perKey, firsts.Count);
        foreach (var group in firsts.GroupBy(id => id.Split('-')[0]))
        {
            var sequence = group.Select(id => int.Parse(id.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(1, perKey), sequence);
        }
    }

    [Fact]
    public async Task A_running_relay_wakes_on_notify_long_before_its_poll_interval()
    {
        await using var db = await CreateAsync();
        var relay = new OutboxRelay(db.Service, new PostgresQueueTransport(db.Bus, _ => ["q"]), new RelayOptions { PollInterval = TimeSpan.FromMinutes(5) },
            TimeProvider.System);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var running = relay.RunAsync(cancellationToken: stop.Token);
        await Task.Delay(300, Cancel); // let it drain and start listening

        var appended = DateTime.UtcNow;
        await AppendAsync(db.Service, Message("n", 1));
        while ((await QueueAsync(db.Bus)).Count == 0)
        {
            Assert.True(DateTime.UtcNow - appended < TimeSpan.FromSeconds(20), "the relay did not wake on NOTIFY");
            await Task.Delay(20, Cancel);
        }
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Writers_notify_only_while_a_relay_is_registered_as_waiting()
    {
        // A NOTIFY serializes commits database-wide, so writers send one only when a relay sleeps.
        await using var db = await CreateAsync();
        await using var listener = await db.Service.OpenConnectionAsync(Cancel);
        var notifications = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref notifications);
        await using (var listen = new NpgsqlCommand("LISTEN concord_outbox", listener))
        {
            await listen.ExecuteNonQueryAsync(Cancel);
        }
        async Task<bool> NotifiedAfterAppendAsync(int sequence)
        {
            Volatile.Write(ref notifications, 0);
            await AppendAsync(db.Service, Message("w", sequence));
            await listener.WaitAsync(TimeSpan.FromMilliseconds(500), Cancel);
            return Volatile.Read(ref notifications) > 0;
        }
        async Task CallAsync(string function)
        {
            await using var call = new NpgsqlCommand($"SELECT {function}()", listener);
            await call.ExecuteNonQueryAsync(Cancel);
        }

        Assert.False(await NotifiedAfterAppendAsync(1));
        await CallAsync("outbox_relay_waits");
        Assert.True(await NotifiedAfterAppendAsync(2));
        await CallAsync("outbox_relay_wakes");
        Assert.False(await NotifiedAfterAppendAsync(3));
    }

    [Fact]
    public async Task A_sleeping_relay_misses_no_wake_up_from_writers_racing_its_registration()
    {
        // The poll interval is an hour: every message must arrive through a wake-up, including those
        // whose writers checked for waiting relays just before the relay registered.
        await using var db = await CreateAsync();
        var relay = new OutboxRelay(db.Service, new PostgresQueueTransport(db.Bus, _ => ["q"]), new RelayOptions { PollInterval = TimeSpan.FromHours(1) },
            TimeProvider.System);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var running = relay.RunAsync(cancellationToken: stop.Token);
        const int writers = 4, perWriter = 40;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            var random = new Random(w);
            for (var i = 0; i < perWriter; i++)
            {
                await AppendAsync(db.Service, Message($"r{w}", i));
                await Task.Delay(random.Next(0, 8), Cancel); // let the relay catch up and go to sleep now and then
            }
        }));
        var appended = DateTime.UtcNow;
        while ((await QueueAsync(db.Bus)).Count < writers * perWriter)
        {
            Assert.True(DateTime.UtcNow - appended < TimeSpan.FromSeconds(20), "a wake-up was lost: messages wait for the hourly poll");
            await Task.Delay(20, Cancel);
        }
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task A_relay_about_to_sleep_waits_out_a_writer_that_looked_before_it_registered()
    {
        // The race made slow: the writer inserts (and finds no relay waiting, so it will not
        // notify), the relay then drains (the row is not committed yet), registers and would sleep
        // for an hour; the writer commits half a second later. Only the relay's wait for writers
        // that were running when it registered keeps it from sleeping through that commit.
        await using var db = await CreateAsync();
        await using var writer = await db.Service.OpenConnectionAsync(Cancel);
        await using var transaction = await writer.BeginTransactionAsync(Cancel);
        await Outbox.AppendAsync(writer, transaction, Message("slow", 1), Cancel);

        var relay = new OutboxRelay(db.Service, new PostgresQueueTransport(db.Bus, _ => ["q"]), new RelayOptions { PollInterval = TimeSpan.FromHours(1) },
            TimeProvider.System);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var running = relay.RunAsync(cancellationToken: stop.Token);
        await Task.Delay(500, Cancel);
        await transaction.CommitAsync(Cancel);

        var committed = DateTime.UtcNow;
        while ((await QueueAsync(db.Bus)).Count == 0)
        {
            Assert.True(DateTime.UtcNow - committed < TimeSpan.FromSeconds(20), "the relay slept through a writer that committed after it registered");
            await Task.Delay(20, Cancel);
        }
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Published_rows_are_pruned_after_the_retention_period()
    {
        await using var db = await CreateAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var relay = new OutboxRelay(db.Service, new PostgresQueueTransport(db.Bus, _ => ["q"]), new RelayOptions { Retention = TimeSpan.FromHours(1) }, time);
        await AppendAsync(db.Service, Message("p", 1));
        await relay.PublishBatchAsync(Cancel);
        await AppendAsync(db.Service, Message("p", 2)); // unpublished: never pruned

        Assert.Equal(0, await relay.PruneAsync(Cancel));
        time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await relay.PruneAsync(Cancel));
        await using var count = db.Service.CreateCommand("SELECT count(*) FROM outbox");
        Assert.Equal(1L, await count.ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task The_inbox_applies_a_redelivered_message_once_and_consumers_keep_key_order()
    {
        await using var db = await CreateAsync();
        await using (var table = db.Service.CreateCommand("CREATE TABLE effects (message_id text, key text, n int)"))
        {
            await table.ExecuteNonQueryAsync(Cancel);
        }
        var transport = new PostgresQueueTransport(db.Bus, _ => ["q"]);
        var messages = Enumerable.Range(1, 20).SelectMany(i => new[] { Message("x", i), Message("y", i) }).ToList();
        await transport.PublishAsync(messages, Cancel);
        await transport.PublishAsync(messages.Where((_, i) => i % 3 == 0).ToList(), Cancel); // redeliveries

        var duplicates = 0;
        async Task Handle(IReadOnlyList<OutboxMessage> batch, CancellationToken ct)
        {
            await using var connection = await db.Service.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var fresh = await Inbox.TryRecordManyAsync(connection, transaction, "test-consumer", [.. batch.Select(m => m.Id)], ct);
            foreach (var message in batch)
            {
                if (!fresh.Contains(message.Id))
                {
                    Interlocked.Increment(ref duplicates);
                    continue;
                }
                await using var effect = new NpgsqlCommand("INSERT INTO effects VALUES (@id, @key, @n)", connection, transaction);
                effect.Parameters.AddWithValue("id", message.Id);
                effect.Parameters.AddWithValue("key", message.PartitionKey);
                effect.Parameters.AddWithValue("n", int.Parse(message.Id.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture));
                await effect.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
        }

        var consumers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var consumer = new QueueConsumer(db.Bus, "q", batchSizeMax: 5);
            while (await consumer.DepthAsync(Cancel) > 0)
            {
                await consumer.ConsumeBatchAsync(Handle, Cancel);
            }
        }, Cancel));
        await Task.WhenAll(consumers);

        Assert.Equal(messages.Count(m => messages.IndexOf(m) % 3 == 0), duplicates);
        await using var read = db.Service.CreateCommand("SELECT key, n FROM effects ORDER BY ctid");
        await using var reader = await read.ExecuteReaderAsync(Cancel);
        var effects = new List<(string Key, int N)>();
        while (await reader.ReadAsync(Cancel))
        {
            effects.Add((reader.GetString(0), reader.GetInt32(1)));
        }
        Assert.Equal(40, effects.Count); // each message's effect exactly once
        foreach (var key in new[] { "x", "y" })
        {
            Assert.Equal(Enumerable.Range(1, 20), effects.Where(e => e.Key == key).Select(e => e.N));
        }
    }

    [Fact]
    public async Task A_poison_message_holds_back_only_its_key_and_is_dead_lettered_after_its_attempts()
    {
        await using var db = await CreateAsync();
        var transport = new PostgresQueueTransport(db.Bus, _ => ["q"]);
        await transport.PublishAsync([Message("x", 1), Message("x", 2), Message("y", 1), Message("y", 2)], Cancel);
        var handled = new List<string>();
        var errors = 0;
        var consumer = new QueueConsumer(db.Bus, "q", attemptsMax: 3, onError: (_, _) => errors++);
        Task Handle(IReadOnlyList<OutboxMessage> batch, CancellationToken ct)
        {
            // Like a transaction: a batch with the poison message in it takes effect not at all.
            if (batch.Any(m => m.Id == "x-1"))
            {
                throw new InvalidOperationException("poison");
            }
            handled.AddRange(batch.Select(m => m.Id));
            return Task.CompletedTask;
        }

        for (var round = 0; round < 5; round++)
        {
            await consumer.ConsumeBatchAsync(Handle, Cancel);
        }

        // y never waited for x (each failed batch fell back to one message at a time); x-2 waited for x-1 to be dead-lettered.
        Assert.Equal(["y-1", "y-2", "x-2"], handled);
        Assert.Equal(3, errors); // only x-1's own failures count, not the batches it spoiled
        await using var dead = db.Bus.CreateCommand("SELECT message_id || ':' || attempts || ':' || last_error FROM queue_dead_letters");
        Assert.Equal("x-1:3:poison", await dead.ExecuteScalarAsync(Cancel));
        Assert.Equal(0, await consumer.DepthAsync(Cancel));
    }

    [Fact]
    public async Task A_round_hands_one_message_per_key_to_the_handler_as_one_batch_and_acknowledges_them_together()
    {
        await using var db = await CreateAsync();
        await new PostgresQueueTransport(db.Bus, _ => ["q"]).PublishAsync(
            [Message("a", 1), Message("b", 1), Message("a", 2), Message("c", 1), Message("b", 2), Message("c", 2)], Cancel);
        var consumer = new QueueConsumer(db.Bus, "q");
        var batches = new List<string>();
        Task Handle(IReadOnlyList<OutboxMessage> batch, CancellationToken ct)
        {
            batches.Add(string.Join(",", batch.Select(m => m.Id)));
            return Task.CompletedTask;
        }

        Assert.Equal(3, await consumer.ConsumeBatchAsync(Handle, Cancel));
        Assert.Equal(3L, await consumer.DepthAsync(Cancel)); // the first three, acknowledged at once
        Assert.Equal(3, await consumer.ConsumeBatchAsync(Handle, Cancel));
        Assert.Equal(0, await consumer.ConsumeBatchAsync(Handle, Cancel));
        Assert.Equal(["a-1,b-1,c-1", "a-2,b-2,c-2"], batches);
    }

    [Fact]
    public async Task The_inbox_records_a_batch_at_once_and_returns_only_the_ids_it_had_not_seen()
    {
        await using var db = await CreateAsync();
        async Task<IReadOnlySet<string>> RecordAsync(params string[] ids)
        {
            await using var connection = await db.Service.OpenConnectionAsync(Cancel);
            await using var transaction = await connection.BeginTransactionAsync(Cancel);
            var fresh = await Inbox.TryRecordManyAsync(connection, transaction, "c", ids, Cancel);
            await transaction.CommitAsync(Cancel);
            return fresh;
        }

        Assert.Equal(["m1", "m2"], (await RecordAsync("m2", "m1", "m2")).Order());
        Assert.Equal(["m3"], await RecordAsync("m1", "m3", "m2"));
        Assert.Empty(await RecordAsync("m3"));
        await using var count = db.Service.CreateCommand("SELECT count(*) FROM inbox");
        Assert.Equal(3L, await count.ExecuteScalarAsync(Cancel));
    }
}
