using Concord.Commerce.Http;
using Concord.Commerce.Sagas;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas.Orders;
using Concord.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Concord.Commerce.Tests.Sagas;

/// <summary>The commerce host with the saga store on a fresh Orders database, on a fake clock: real Kestrel, real PostgreSQL.</summary>
internal sealed class SagaServer : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    readonly WebApplication _app;

    SagaServer(WebApplication app, CommerceDatabase orders, FakeTimeProvider time)
    {
        _app = app;
        Orders = orders;
        Time = time;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(30) };
        Runtime = app.Services.GetRequiredService<OrderSagaRuntime>();
    }

    public HttpClient Client { get; }

    public CommerceDatabase Orders { get; }

    public FakeTimeProvider Time { get; }

    public OrderSagaRuntime Runtime { get; }

    public static async Task<SagaServer> StartAsync(PostgresFixture fixture, SagaStoreOptions options)
    {
        var orders = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Orders);
        var time = new FakeTimeProvider(Epoch);
        var app = CommerceHost.Build(new CommerceHostOptions
        {
            ConnectionStrings = new Dictionary<CommerceService, string> { [CommerceService.Orders] = orders.AppConnectionString },
            Urls = "http://127.0.0.1:0",
            Time = time,
            Sagas = options,
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new SagaServer(app, orders, time);
    }

    public static OrderSagaData NewOrder() => new(Guid.NewGuid(), Guid.NewGuid(), "EUR", "acct-1", [new OrderLine("sku-1", 2, 1_250)]);

    /// <summary>The saga's outbox rows in publication order, decoded.</summary>
    public async Task<List<Message>> OutboxAsync(string sagaId)
    {
        var codec = OrderSagaMessages.Register(new MessageCodec());
        var messages = new List<Message>();
        await using var connection = new NpgsqlConnection(Orders.AppConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var select = new NpgsqlCommand("SELECT payload FROM outbox WHERE partition_key = @key ORDER BY position", connection);
        select.Parameters.AddWithValue("key", sagaId);
        await using var reader = await select.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            messages.Add(codec.Decode(reader.GetFieldValue<byte[]>(0)));
        }
        return messages;
    }

    public async Task<long> CountAsync(string sql, string sagaId)
    {
        await using var connection = new NpgsqlConnection(Orders.AppConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", sagaId);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public Task<long> TransitionsAsync(string sagaId) => CountAsync("SELECT count(*) FROM saga_transitions WHERE saga_id = @id", sagaId);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
