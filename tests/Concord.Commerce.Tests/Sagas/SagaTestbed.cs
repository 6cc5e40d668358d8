using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Concord.Commerce.Http;
using Concord.Commerce.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests.Sagas;

/// <summary>
/// The whole order saga over real HTTP: Orders, Payments, Inventory and a bus database, with relays
/// and consumers running inside the host. Shop setup helpers and a wait for the sagas to settle.
/// </summary>
internal sealed class SagaTestbed : IAsyncDisposable
{
    public static readonly OrderSagaTimings FastTimings = new() { AttemptTimeoutMs = 3_000, StepDeadlineMs = 20_000, BackoffBaseMs = 50, BackoffMaxMs = 500 };

    SagaTestbed(CommerceServer server, string bus)
    {
        Server = server;
        Bus = NpgsqlDataSource.Create(bus);
        Orders = NpgsqlDataSource.Create(server.Databases[CommerceService.Orders].AppConnectionString);
        Inventory = NpgsqlDataSource.Create(server.Databases[CommerceService.Inventory].AppConnectionString);
        Payments = NpgsqlDataSource.Create(server.Databases[CommerceService.Payments].AppConnectionString);
    }

    public CommerceServer Server { get; }

    public NpgsqlDataSource Bus { get; }

    public NpgsqlDataSource Orders { get; }

    public NpgsqlDataSource Inventory { get; }

    public NpgsqlDataSource Payments { get; }

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static async Task<SagaTestbed> StartAsync(PostgresFixture fixture)
    {
        var bus = await CommerceDatabases.ProvisionBusAsync(fixture.AdminConnectionString, fixture.NewDatabaseName(), CommerceDatabase.AppPassword, Cancel);
        var server = await CommerceServer.StartAsync(fixture, TimeProvider.System, options => options with
        {
            Sagas = new SagaStoreOptions { Timings = FastTimings, PollInterval = TimeSpan.FromMilliseconds(200) },
            SagaMessaging = new SagaMessagingOptions { BusConnectionString = bus },
        }, CommerceService.Orders, CommerceService.Inventory, CommerceService.Payments);
        return new SagaTestbed(server, bus);
    }

    public async Task<Guid> CustomerAsync(string email)
    {
        var response = await Server.PostAsync("/orders/customers", new { email, name = "Test Customer" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("id").GetGuid();
    }

    public async Task StockAsync(string sku, int onHand) =>
        (await Server.PostAsync("/inventory/skus", new { sku, onHand })).EnsureSuccessStatusCode();

    /// <summary>Opens <paramref name="id"/> in EUR and deposits <paramref name="depositMinor"/> into it from the outside world.</summary>
    public async Task AccountAsync(string id, long depositMinor)
    {
        (await Server.PostAsync("/payments/accounts", new { id, currency = "EUR", floorMinor = 0L })).EnsureSuccessStatusCode();
        var world = await Server.PostAsync("/payments/accounts", new { id = "world", currency = "EUR", floorMinor = -1_000_000_000_000L });
        Assert.True(world.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict);
        if (depositMinor > 0)
        {
            (await Server.PostAsync("/payments/transfers", new
            {
                currency = "EUR",
                kind = "deposit",
                postings = new[] { new { accountId = "world", side = "debit", amountMinor = depositMinor }, new { accountId = id, side = "credit", amountMinor = depositMinor } },
            }, "deposit-" + id)).EnsureSuccessStatusCode();
        }
    }

    /// <summary>POST /orders/checkout; returns the saga id.</summary>
    public async Task<CheckoutView> CheckoutAsync(Guid customer, string account, params (string Sku, int Quantity, long UnitPriceMinor)[] lines)
    {
        var response = await Server.PostAsync("/orders/checkout", new
        {
            customerId = customer,
            currency = "EUR",
            paymentAccountId = account,
            lines = lines.Select(l => new { sku = l.Sku, quantity = l.Quantity, unitPriceMinor = l.UnitPriceMinor }).ToArray(),
        }, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CheckoutView>(Cancel))!;
    }

    public async Task<string> SagaStatusAsync(string sagaId) =>
        (await Server.Client.GetFromJsonAsync<JsonElement>($"/sagas/{sagaId}", Cancel)).GetProperty("status").GetString()!;

    public async Task<string> OrderStatusAsync(Guid orderId) =>
        (await Server.Client.GetFromJsonAsync<JsonElement>($"/orders/{orderId}", Cancel)).GetProperty("status").GetString()!;

    /// <summary>Waits until every saga is terminal and nothing is in flight (outboxes published, queues empty), twice in a row.</summary>
    public async Task SettleAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var quietRounds = 0;
        while (quietRounds < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sagas did not settle in time: " + await InFlightAsync());
            await Task.Delay(100, Cancel);
            quietRounds = await InFlightAsync() == "" ? quietRounds + 1 : 0;
        }
    }

    async Task<string> InFlightAsync()
    {
        var busy = new List<string>();
        async Task Count(NpgsqlDataSource db, string what, string sql)
        {
            await using var command = db.CreateCommand(sql);
            if ((long)(await command.ExecuteScalarAsync(Cancel))! is var n and > 0)
            {
                busy.Add($"{n} {what}");
            }
        }
        await Count(Orders, "live sagas", "SELECT count(*) FROM saga_instances WHERE status IN ('running', 'compensating')");
        await Count(Orders, "unpublished in Orders", "SELECT count(*) FROM outbox WHERE published_at IS NULL");
        await Count(Inventory, "unpublished in Inventory", "SELECT count(*) FROM outbox WHERE published_at IS NULL");
        await Count(Payments, "unpublished in Payments", "SELECT count(*) FROM outbox WHERE published_at IS NULL");
        await Count(Bus, "queued", "SELECT count(*) FROM queue_messages");
        return string.Join(", ", busy);
    }

    public Task<SagaInvariantReport> CheckInvariantsAsync() => SagaInvariants.CheckAsync(Orders, Inventory, Payments, Cancel);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Bus.DisposeAsync();
        await Orders.DisposeAsync();
        await Inventory.DisposeAsync();
        await Payments.DisposeAsync();
    }
}
