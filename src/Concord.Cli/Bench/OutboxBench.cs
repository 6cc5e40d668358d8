using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Concord.Commerce;
using Concord.Commerce.Http;
using Concord.Commerce.Orders;
using Concord.Commerce.Sagas;
using Concord.Postgres.Local;
using Concord.Postgres.Messaging;
using Concord.Postgres.Migrations;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Concord.Cli.Bench;

/// <summary>
/// <c>concord bench outbox</c>, against one throwaway local cluster, everything in the same run:
/// <list type="bullet">
/// <item>the ceiling: a plain one-row INSERT + COMMIT loop (8 writers), the most transactions this cluster commits;</item>
/// <item>messages per second from outbox insert to consumer commit (8 producers, relays, 4 queue consumers
///   recording each claimed batch in their inbox in one transaction), with 1 and with 4 relays; the relays alone
///   draining a full outbox; the consumers alone draining a full queue;</item>
/// <item>order creation p95 with and without the outbox insert, interleaved;</item>
/// <item>end-to-end order sagas per second and their p95 latency, through <c>POST /orders/checkout</c> and the whole saga machinery.</item>
/// </list>
/// </summary>
internal static class OutboxBench
{
    const int Writers = 8;
    const int Consumers = 4;
    const int ConsumerBatchSizeMax = 64;
    const int PartitionKeys = 512;
    const int InFlight = 100;
    const int WarmUpSagas = 200;
    const double MessagesPerSaga = 12;
    static readonly TimeSpan OrderCreationTimeMin = TimeSpan.FromSeconds(12);
    static readonly byte[] Payload = Encoding.UTF8.GetBytes(new string('x', 200));

    public static async Task<Dictionary<string, object>> RunAsync(int messages, int sagas, TimeSpan cell, Action<string> progress, CancellationToken ct)
    {
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(), ct);
        var admin = cluster.Primary.ConnectionString();
        var databases = 0;
        async Task<string> NewDatabaseAsync(MigrationSet? migrations)
        {
            var name = $"bench_outbox_{++databases}";
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync(ct);
                await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
                await create.ExecuteNonQueryAsync(ct);
            }
            // No DISCARD ALL on reuse, as the commerce host's pools: it would cost every transaction here a reset.
            var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 64, NoResetOnClose = true }.ConnectionString;
            if (migrations is not null)
            {
                await MigrationRunner.ApplyAsync(connectionString, migrations, ct);
            }
            return connectionString;
        }

        progress("ceiling: plain INSERT + COMMIT");
        var ceiling = await CeilingAsync(await NewDatabaseAsync(null), messages, ct);
        var relayed = new Dictionary<string, object>();
        var relayDrains = new List<double>();
        foreach (var relays in new[] { 1, 4 })
        {
            progress($"outbox → consumer commit, {relays} relay(s)");
            var endToEnd = await EndToEndAsync(await NewDatabaseAsync(MessagingSchemas.OutboxAndInbox), await NewDatabaseAsync(MessagingSchemas.Queues),
                relays, messages, ct);
            progress($"relays alone draining {messages} messages, {relays} relay(s)");
            var drain = await DrainAsync(await NewDatabaseAsync(MessagingSchemas.OutboxAndInbox), await NewDatabaseAsync(MessagingSchemas.Queues),
                relays, messages, ct);
            relayDrains.Add(drain);
            relayed[$"relays_{relays}"] = new Dictionary<string, object>
            {
                ["end_to_end_msgs_per_s"] = Math.Round(endToEnd),
                ["end_to_end_fraction_of_ceiling"] = Math.Round(endToEnd / ceiling, 3),
                ["relay_drain_msgs_per_s"] = Math.Round(drain),
                ["relay_drain_fraction_of_ceiling"] = Math.Round(drain / ceiling, 3),
            };
        }

        progress($"consumers alone draining {messages} queued messages");
        var consumerDrain = await ConsumerDrainAsync(await NewDatabaseAsync(MessagingSchemas.OutboxAndInbox), await NewDatabaseAsync(MessagingSchemas.Queues), messages, ct);

        progress("order creation with and without the outbox insert");
        var orders = await OrderCreationAsync(admin, cell, ct);
        progress($"{sagas} order sagas end to end");
        var sagaResults = await SagasAsync(admin, sagas, ct);
        progress($"{2 * sagas} checkouts with the saga loops stopped");
        var checkoutCeiling = await CheckoutCeilingAsync(admin, 2 * sagas, ct);
        sagaResults["checkout_ceiling_per_s"] = Math.Round(checkoutCeiling, 1);
        // Machine time per saga is at least its checkout plus relaying and consuming its messages at
        // the best rates measured above (with no effect, transition or lock in them): the most
        // sagas/s these 2 cores could give even if everything else were free.
        var bestRelay = relayDrains.Max();
        sagaResults["sagas_per_s_bound_from_stages"] = Math.Round(1 / ((1 / checkoutCeiling) + (MessagesPerSaga / bestRelay) + (MessagesPerSaga / consumerDrain)), 1);
        sagaResults["bound"] = $"1 / (1/checkout_ceiling + {MessagesPerSaga}/best relay drain + {MessagesPerSaga}/consumer drain): {MessagesPerSaga} messages per saga (6 commands, 6 replies)";
        return new Dictionary<string, object>
        {
            ["messages"] = messages,
            ["ceiling_insert_commit_per_s"] = Math.Round(ceiling),
            ["relayed"] = relayed,
            ["consumer_drain_msgs_per_s"] = Math.Round(consumerDrain),
            ["consumer_drain_fraction_of_ceiling"] = Math.Round(consumerDrain / ceiling, 3),
            ["order_creation"] = orders,
            ["sagas"] = sagaResults,
            ["targets"] = new Dictionary<string, object>
            {
                ["relayed_msgs_per_s_min"] = 5_000,
                ["sagas_per_s_min"] = 500,
                ["outbox_overhead_p95_pct_max"] = 15,
            },
            ["setup"] = $"{Writers} producers (one message per transaction, {PartitionKeys} partition keys, {Payload.Length}-byte payloads); " +
                $"{Consumers} queue consumers, each claiming up to {ConsumerBatchSizeMax} heads and recording them in one inbox transaction; relay batches of 256",
        };
    }

    /// <summary>One row per transaction, <see cref="Writers"/> writers: the cluster's commit rate for the smallest useful transaction.</summary>
    static async Task<double> CeilingAsync(string database, int rows, CancellationToken ct)
    {
        await using var db = NpgsqlDataSource.Create(database);
        await using (var create = db.CreateCommand("CREATE TABLE plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key text NOT NULL, payload bytea NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        var start = Stopwatch.GetTimestamp();
        await ProduceAsync(db, rows, async (connection, transaction, i) =>
        {
            await using var insert = new NpgsqlCommand("INSERT INTO plain (key, payload) VALUES (@key, @payload)", connection, transaction);
            insert.Parameters.AddWithValue("key", "key-" + (i % PartitionKeys));
            insert.Parameters.AddWithValue("payload", Payload);
            await insert.ExecuteNonQueryAsync(ct);
        }, ct);
        return rows / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Producers, relays and consumers all running: from the first outbox insert to the last consumer's inbox commit.</summary>
    static async Task<double> EndToEndAsync(string service, string bus, int relays, int messages, CancellationToken ct)
    {
        await using var serviceDb = NpgsqlDataSource.Create(service);
        await using var busDb = NpgsqlDataSource.Create(bus);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loops = StartRelays(serviceDb, busDb, relays, stop.Token).Concat(StartConsumers(serviceDb, busDb, stop.Token)).ToList();
        var start = Stopwatch.GetTimestamp();
        await ProduceAsync(serviceDb, messages, (connection, transaction, i) => Outbox.AppendAsync(connection, transaction, Message(i), ct), ct);
        await WaitForAsync(serviceDb, "SELECT count(*) FROM inbox", messages, ct);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        return messages / seconds;
    }

    /// <summary>A full outbox, then the relays alone: how fast they move it to the bus.</summary>
    static async Task<double> DrainAsync(string service, string bus, int relays, int messages, CancellationToken ct)
    {
        await using var serviceDb = NpgsqlDataSource.Create(service);
        await using var busDb = NpgsqlDataSource.Create(bus);
        await ProduceAsync(serviceDb, messages, (connection, transaction, i) => Outbox.AppendAsync(connection, transaction, Message(i), ct), ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var start = Stopwatch.GetTimestamp();
        var loops = StartRelays(serviceDb, busDb, relays, stop.Token);
        await WaitForAsync(busDb, "SELECT count(*) FROM queue_messages", messages, ct);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        return messages / seconds;
    }

    /// <summary>A full queue, then the consumers alone: how fast they move it into their inbox (a batch per transaction).</summary>
    static async Task<double> ConsumerDrainAsync(string service, string bus, int messages, CancellationToken ct)
    {
        await using var serviceDb = NpgsqlDataSource.Create(service);
        await using var busDb = NpgsqlDataSource.Create(bus);
        var transport = new PostgresQueueTransport(busDb, _ => ["bench"]);
        foreach (var chunk in Enumerable.Range(0, messages).Select(Message).Chunk(1_000))
        {
            await transport.PublishAsync(chunk, ct);
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var start = Stopwatch.GetTimestamp();
        var loops = StartConsumers(serviceDb, busDb, stop.Token).ToList();
        await WaitForAsync(serviceDb, "SELECT count(*) FROM inbox", messages, ct);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        return messages / seconds;
    }

    static OutboxMessage Message(int i) => new($"m-{i}", "bench.event", "key-" + (i % PartitionKeys), Payload);

    static List<Task> StartRelays(NpgsqlDataSource service, NpgsqlDataSource bus, int relays, CancellationToken ct)
    {
        var transport = new PostgresQueueTransport(bus, _ => ["bench"]);
        return [.. Enumerable.Range(0, relays).Select(_ => Task.Run(() => new OutboxRelay(service, transport, new RelayOptions(), TimeProvider.System).RunAsync(null, ct), ct))];
    }

    /// <summary>Consumers that record each claimed batch in their inbox with one transaction (the effect of a bench message is its inbox row).</summary>
    static IEnumerable<Task> StartConsumers(NpgsqlDataSource service, NpgsqlDataSource bus, CancellationToken ct) =>
        Enumerable.Range(0, Consumers).Select(_ => Task.Run(() => new QueueConsumer(bus, "bench", ConsumerBatchSizeMax).RunAsync(async (messages, token) =>
        {
            await using var connection = await service.OpenConnectionAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            await Inbox.TryRecordManyAsync(connection, transaction, "bench", [.. messages.Select(m => m.Id)], token);
            await transaction.CommitAsync(token);
        }, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(100), TimeProvider.System, null, ct), ct));

    /// <summary><see cref="Writers"/> tasks share <paramref name="count"/> transactions, one <paramref name="write"/> each.</summary>
    static Task ProduceAsync(NpgsqlDataSource db, int count, Func<NpgsqlConnection, NpgsqlTransaction, int, Task> write, CancellationToken ct)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(async _ =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                await using var transaction = await connection.BeginTransactionAsync(ct);
                await write(connection, transaction, i);
                await transaction.CommitAsync(ct);
            }
        }));
    }

    static async Task WaitForAsync(NpgsqlDataSource db, string countSql, long expected, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 300);
        while (true)
        {
            await using var count = db.CreateCommand(countSql);
            if ((long)(await count.ExecuteScalarAsync(ct))! >= expected)
            {
                return;
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"'{countSql}' did not reach {expected} within 5 minutes.");
            }
            await Task.Delay(5, ct);
        }
    }

    /// <summary>
    /// An order as POST /orders writes it (order, lines, audit rows), in a transaction of its own,
    /// with and without an <c>order.created</c> outbox row, interleaved round by round, at 1 client
    /// (the row's own cost) and at 8 (the cores saturated, where queueing magnifies any extra work).
    /// </summary>
    static async Task<List<Dictionary<string, object>>> OrderCreationAsync(string admin, TimeSpan cell, CancellationToken ct)
    {
        var app = await CommerceDatabases.ProvisionAsync(admin, "bench_outbox_orders", CommerceService.Orders, "bench", ct);
        // Pooled as the commerce host pools its request connections: no DISCARD ALL on reuse, so the
        // triggers' plans (audit, total check, outbox wake-up) survive from one order to the next.
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(CommerceHost.ForRequests(app)) { MaxPoolSize = 64 }.ConnectionString);
        var customer = Guid.CreateVersion7();
        await using (var insert = db.CreateCommand($"INSERT INTO customers (id, email, name) VALUES ('{customer}', 'bench@outbox.example', 'Bench')"))
        {
            await insert.ExecuteNonQueryAsync(ct);
        }
        (string, int, long)[] lines = [("MUG-1", 2, 900), ("TEA-7", 1, 450)];
        async Task<List<double>> RoundAsync(int clients, bool outbox, TimeSpan duration)
        {
            var latencies = new List<double>[clients];
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async w =>
            {
                var mine = latencies[w] = [];
                while (Stopwatch.GetElapsedTime(start) < duration)
                {
                    var began = Stopwatch.GetTimestamp();
                    await using var connection = await db.OpenConnectionAsync(ct);
                    await using var transaction = await connection.BeginTransactionAsync(ct);
                    var id = Guid.CreateVersion7();
                    await OrdersApi.InsertOrderAsync(connection, transaction, id, customer, "EUR", lines, ct);
                    if (outbox)
                    {
                        // The row travels with the COMMIT, as it should in any transaction that
                        // ends by announcing what it did: the outbox costs no round trip of its own.
                        await using var commit = new NpgsqlBatch(connection, transaction)
                        {
                            BatchCommands = { Outbox.Command(new OutboxMessage("order-created-" + id, "order.created", id.ToString(), Payload)), new("COMMIT") },
                        };
                        await commit.ExecuteNonQueryAsync(ct);
                    }
                    else
                    {
                        await transaction.CommitAsync(ct);
                    }
                    mine.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
                }
            }));
            return [.. latencies.SelectMany(l => l)];
        }
        // A p95 difference of a few percent on a shared 2-core machine needs more than the default
        // cell: at least 12 s per variant, in 12 interleaved rounds (3 s in 6 rounds swung the
        // overhead from −28 % to +32 % across runs of the same code).
        var perVariant = cell < OrderCreationTimeMin ? OrderCreationTimeMin : cell;
        const int rounds = 12;
        var results = new List<Dictionary<string, object>>();
        foreach (var clients in new[] { 1, Writers })
        {
            await RoundAsync(clients, true, TimeSpan.FromMilliseconds(300)); // warm up
            var without = new List<double>();
            var with = new List<double>();
            var roundRatios = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                // Alternate which variant goes first, so drift hits both alike.
                var p95 = new double[2];
                foreach (var outbox in round % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    var latencies = await RoundAsync(clients, outbox, perVariant / rounds);
                    latencies.Sort();
                    p95[outbox ? 1 : 0] = Measure.Quantile(latencies, 0.95);
                    (outbox ? with : without).AddRange(latencies);
                }
                roundRatios.Add(p95[1] / p95[0]);
            }
            without.Sort();
            with.Sort();
            var p95Without = Measure.Quantile(without, 0.95);
            var p95With = Measure.Quantile(with, 0.95);
            results.Add(new Dictionary<string, object>
            {
                ["clients"] = clients,
                ["seconds_per_variant"] = perVariant.TotalSeconds,
                ["rounds"] = rounds,
                ["without_outbox"] = new Dictionary<string, object> { ["orders"] = without.Count, ["p50_ms"] = Math.Round(Measure.Quantile(without, 0.5), 3), ["p95_ms"] = Math.Round(p95Without, 3) },
                ["with_outbox"] = new Dictionary<string, object> { ["orders"] = with.Count, ["p50_ms"] = Math.Round(Measure.Quantile(with, 0.5), 3), ["p95_ms"] = Math.Round(p95With, 3) },
                // The median over rounds of the p95 ratio within a round: one round disturbed by
                // whatever else the two cores run moves the pooled p95s, not this.
                ["outbox_overhead_p95_pct"] = Math.Round(100 * (Measure.Median(roundRatios) - 1), 1),
                ["pooled_p95_overhead_pct"] = Math.Round(100 * ((p95With / p95Without) - 1), 1),
                ["outbox_row"] = "sent in one batch with the COMMIT (Outbox.Command)",
            });
        }
        return results;
    }

    static async Task PostOrThrowAsync(HttpClient client, string path, object body, string? idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        using var response = await client.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} failed during the bench: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    static async Task<Guid> CreateCustomerAsync(HttpClient client, CancellationToken ct)
    {
        var response = await client.PostAsJsonAsync("/orders/customers", new { email = "saga@bench.example", name = "Bench" }, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<CustomerView>(ct))!.Id;
    }

    static CheckoutRequest Checkout(Guid customer) => new(customer, "EUR", "buyer", [new OrderLineRequest("MUG-1", 1, 900)]);

    /// <summary>
    /// The front door alone: checkouts/s over HTTP (16 clients) with no relay, consumer or timer
    /// running, on a database of its own. Each checkout commits the saga's start and its first
    /// command; everything after that is extra work, so sagas/s cannot exceed this on the same machine.
    /// </summary>
    static async Task<double> CheckoutCeilingAsync(string admin, int checkouts, CancellationToken ct)
    {
        var orders = await CommerceDatabases.ProvisionAsync(admin, "bench_checkout_orders", CommerceService.Orders, "bench", ct);
        await using var app = CommerceHost.Build(new CommerceHostOptions
        {
            ConnectionStrings = new Dictionary<CommerceService, string> { [CommerceService.Orders] = orders },
            Urls = "http://127.0.0.1:0",
            Sagas = new SagaStoreOptions { PollInterval = TimeSpan.FromHours(1) },
        });
        await app.StartAsync(ct);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(app.Urls.Single()) };
        var checkout = Checkout(await CreateCustomerAsync(client, ct));
        async Task RunAsync(int count)
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) < count)
                {
                    await PostOrThrowAsync(client, "/orders/checkout", checkout, Guid.NewGuid().ToString("N"), ct);
                }
            }));
        }
        await RunAsync(200); // warm up: JIT, pools, plans
        var start = Stopwatch.GetTimestamp();
        await RunAsync(checkouts);
        var perSecond = checkouts / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await app.StopAsync(ct);
        return perSecond;
    }

    /// <summary>
    /// The whole order saga: checkouts over HTTP (16 clients), the commerce host relaying, executing
    /// and replying in-process. Latency is the saga's own: from its start to its terminal transition.
    /// </summary>
    static async Task<Dictionary<string, object>> SagasAsync(string admin, int sagas, CancellationToken ct)
    {
        var connections = new Dictionary<CommerceService, string>();
        foreach (var service in new[] { CommerceService.Orders, CommerceService.Inventory, CommerceService.Payments })
        {
            connections[service] = await CommerceDatabases.ProvisionAsync(admin, $"bench_saga_{service.ToString().ToLowerInvariant()}", service, "bench", ct);
        }
        var bus = await CommerceDatabases.ProvisionBusAsync(admin, "bench_saga_bus", "bench", ct);
        await using var app = CommerceHost.Build(new CommerceHostOptions
        {
            ConnectionStrings = connections,
            Urls = "http://127.0.0.1:0",
            Sagas = new SagaStoreOptions { PollInterval = TimeSpan.FromMilliseconds(200) },
            SagaMessaging = new SagaMessagingOptions { BusConnectionString = bus, RelaysPerService = 2, ConsumersPerQueue = 2 },
        });
        await app.StartAsync(ct);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(app.Urls.Single()) };
        Task PostAsync(string path, object body, string? key = null) => PostOrThrowAsync(client, path, body, key, ct);
        var customer = await CreateCustomerAsync(client, ct);
        await PostAsync("/inventory/skus", new { sku = "MUG-1", onHand = 10_000_000 });
        await PostAsync("/payments/accounts", new { id = "world", currency = "EUR", floorMinor = -1_000_000_000_000L });
        await PostAsync("/payments/accounts", new { id = "buyer", currency = "EUR", floorMinor = 0L });
        await PostAsync("/payments/transfers", new
        {
            currency = "EUR",
            kind = "deposit",
            postings = new[] { new { accountId = "world", side = "debit", amountMinor = 900_000_000_000L }, new { accountId = "buyer", side = "credit", amountMinor = 900_000_000_000L } },
        }, "deposit");

        // A closed loop: at most InFlight sagas live at once, a new checkout as soon as one settles.
        // Enough to keep every loop busy, few enough that no saga waits behind a queue longer than
        // its reply timeout (an open-loop flood only measures retries).
        var checkout = Checkout(customer);
        await using var ordersDb = NpgsqlDataSource.Create(connections[CommerceService.Orders]);
        using var slots = new SemaphoreSlim(InFlight);
        var total = WarmUpSagas + sagas;
        var next = -1;
        var clients = Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < total)
            {
                await slots.WaitAsync(ct);
                await PostAsync("/orders/checkout", checkout, Guid.NewGuid().ToString("N"));
            }
        }));
        // The first WarmUpSagas settle before the clock starts (JIT, tiered compilation, pools and
        // plans of every loop); latencies are those of the sagas started after that.
        long start = 0;
        var measuredFrom = DateTimeOffset.MinValue;
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 300);
        for (var settled = 0L; settled < total;)
        {
            await using var count = ordersDb.CreateCommand("SELECT count(*) FROM saga_instances WHERE status IN ('completed', 'compensated')");
            var now = (long)(await count.ExecuteScalarAsync(ct))!;
            if (now > settled)
            {
                slots.Release((int)(now - settled));
                settled = now;
            }
            if (start == 0 && settled >= WarmUpSagas)
            {
                start = Stopwatch.GetTimestamp();
                measuredFrom = DateTimeOffset.UtcNow;
            }
            if (clients.IsFaulted)
            {
                await clients; // a failed checkout: report it now, not after the timeout
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Only {settled} of {total} sagas settled within 5 minutes.");
            }
            await Task.Delay(10, ct);
        }
        await clients;
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var latencies = new List<double>();
        long completed = 0, retries = 0;
        await using (var select = ordersDb.CreateCommand(
            "SELECT extract(epoch FROM updated_at - started_at)::float8 * 1000, status = 'completed', version, started_at >= @from FROM saga_instances"))
        {
            select.Parameters.AddWithValue("from", measuredFrom);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (reader.GetBoolean(3))
                {
                    latencies.Add(reader.GetDouble(0));
                }
                completed += reader.GetBoolean(1) ? 1 : 0;
                // A saga without a timeout or retry has 7 transitions: its start and one reply per step.
                retries += reader.GetInt64(2) - 7;
            }
        }
        latencies.Sort();
        await app.StopAsync(ct);
        return new Dictionary<string, object>
        {
            ["sagas"] = sagas,
            ["warm_up_sagas"] = WarmUpSagas,
            ["completed"] = completed,
            ["transitions_beyond_the_clean_path"] = retries,
            ["clients"] = 16,
            ["in_flight_max"] = InFlight,
            ["sagas_per_s"] = Math.Round(sagas / seconds, 1),
            ["p50_ms"] = Math.Round(Measure.Quantile(latencies, 0.5), 1),
            ["p95_ms"] = Math.Round(Measure.Quantile(latencies, 0.95), 1),
            ["p99_ms"] = Math.Round(Measure.Quantile(latencies, 0.99), 1),
            ["setup"] = "one host: Orders, Inventory, Payments, 2 relays per outbox, 2 consumers per queue each handling a claimed batch (up to 32 sagas) in one transaction; " +
                $"1-line orders, 16 HTTP clients, a closed loop of at most {InFlight} sagas in flight; {WarmUpSagas} warm-up sagas first " +
                "(counted in completed and transitions_beyond_the_clean_path, not in the rate or the latencies)",
        };
    }
}
