using Concord.Commerce.Http;
using Concord.Commerce.Inventory;
using Concord.Commerce.Orders;
using Concord.Commerce.Payments;
using Concord.Commerce.Sagas.Commands;
using Concord.Core.Clocks;
using Concord.Postgres.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Concord.Commerce.Sagas;

public sealed record SagaMessagingOptions
{
    /// <summary>The bus database's connection string (the PostgreSQL-backed queues, <see cref="CommerceDatabases.ProvisionBusAsync"/>).</summary>
    public required string BusConnectionString { get; init; }

    /// <summary>Relay instances per service outbox; they share the work safely (partition heads, SKIP LOCKED).</summary>
    public int RelaysPerService { get; init; } = 1;

    /// <summary>Consumers per queue, each handling a claimed batch in one transaction; each key's messages are still handled in order, one at a time.</summary>
    public int ConsumersPerQueue { get; init; } = 1;

    public RelayOptions Relay { get; init; } = new();

    /// <summary>
    /// Heads (one per saga) a consumer claims per round and handles in one service transaction. At
    /// most 32: each command's effect runs under a savepoint, and PostgreSQL tracks up to 64
    /// subtransactions per transaction cheaply (more slow every other session's snapshots).
    /// </summary>
    public int ConsumerBatchSizeMax { get; init; } = 32;

    /// <summary>Handler failures before a message moves to the dead letters (the saga then retries the step with a new attempt).</summary>
    public int ConsumerAttemptsMax { get; init; } = 5;

    public void Validate()
    {
        Relay.Validate();
        if (RelaysPerService is < 1 or > 16 || ConsumersPerQueue is < 1 or > 16 || ConsumerBatchSizeMax is < 1 or > 32 || ConsumerAttemptsMax < 1)
        {
            throw new ArgumentException("RelaysPerService and ConsumersPerQueue must be within [1, 16], ConsumerBatchSizeMax within [1, 32], ConsumerAttemptsMax at least 1.");
        }
    }
}

/// <summary>
/// Moves the order saga's messages while the host runs: a relay per service outbox publishes to the
/// bus; a consumer per service queue executes commands (<see cref="SagaCommandConsumer"/>); a
/// consumer of the <c>order-saga</c> queue feeds replies to <see cref="OrderSagaRuntime.HandleRepliesAsync"/>.
/// Runs only the parts whose databases this host has, so the services can also run apart.
/// </summary>
internal sealed class SagaMessagingService(
    SagaMessagingOptions options, CommerceDataSources databases, IReadOnlyCollection<CommerceService> services, OrderSagaRuntime? runtime,
    HybridLogicalClock clock, TimeProvider time, ILogger<SagaMessagingService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var bus = NpgsqlDataSource.Create(options.BusConnectionString);
        var transport = new PostgresQueueTransport(bus, message => SagaWire.Route(message.Type));
        var loops = new List<Task>();
        foreach (var service in services)
        {
            for (var i = 0; i < options.RelaysPerService; i++)
            {
                var relay = new OutboxRelay(databases[service], transport, options.Relay, time);
                loops.Add(relay.RunAsync(e => log.LogWarning(e, "Relaying the {Service} outbox failed; retrying.", service), stoppingToken));
            }
        }
        void Consume(string queue, Func<IReadOnlyList<OutboxMessage>, CancellationToken, Task> handle)
        {
            for (var i = 0; i < options.ConsumersPerQueue; i++)
            {
                var consumer = new QueueConsumer(bus, queue, options.ConsumerBatchSizeMax, options.ConsumerAttemptsMax,
                    (message, e) => log.LogWarning(e, "Handling {MessageId} from {Queue} failed; it will be retried.", message.Id, queue));
                loops.Add(consumer.RunAsync(handle, options.Relay.PollInterval, options.Relay.FailureBackoff, time,
                    e => log.LogWarning(e, "Consuming {Queue} failed; retrying.", queue), stoppingToken));
            }
        }
        foreach (var (service, queue, executor) in new (CommerceService, string, ISagaCommandExecutor)[]
        {
            (CommerceService.Orders, SagaWire.Queues.Orders, new OrdersSagaCommands()),
            (CommerceService.Inventory, SagaWire.Queues.Inventory, new InventorySagaCommands()),
            (CommerceService.Payments, SagaWire.Queues.Payments, new PaymentsSagaCommands()),
        })
        {
            if (services.Contains(service))
            {
                Consume(queue, new SagaCommandConsumer(queue, databases[service], executor, clock).HandleAsync);
            }
        }
        if (runtime is not null)
        {
            Consume(SagaWire.Queues.Sagas, runtime.HandleRepliesAsync);
        }
        await Task.WhenAll(loops).ConfigureAwait(false);
    }
}
