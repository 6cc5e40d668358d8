using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Concord.Commerce;
using Concord.Commerce.Inventory;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests;

public sealed class InventoryHttpTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sixty_four_buyers_race_for_ten_units_and_exactly_ten_win()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "HOT-1", onHand = 10 })).EnsureSuccessStatusCode();

        // Sample the row as the race runs: on_hand never negative, reserved never above it.
        using var stopSampling = new CancellationTokenSource();
        var violations = new List<string>();
        var samples = 0;
        var sampler = Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(server.Databases[CommerceService.Inventory].AdminConnectionString);
            await connection.OpenAsync(Cancel);
            await using var read = new NpgsqlCommand("SELECT on_hand, reserved FROM stock WHERE sku = 'HOT-1'", connection);
            while (!stopSampling.IsCancellationRequested)
            {
                await using var reader = await read.ExecuteReaderAsync(Cancel);
                await reader.ReadAsync(Cancel);
                var (onHand, reserved) = (reader.GetInt32(0), reader.GetInt32(1));
                if (onHand < 0 || reserved > onHand)
                {
                    violations.Add($"on_hand={onHand} reserved={reserved}");
                }
                samples++;
            }
        }, Cancel);

        using var start = new SemaphoreSlim(0);
        var buyers = Enumerable.Range(0, 64).Select(async i =>
        {
            await start.WaitAsync(Cancel);
            var response = await server.PostAsync("/inventory/reservations",
                new { orderId = Guid.NewGuid(), sku = "HOT-1", quantity = 1 }, idempotencyKey: $"buyer-{i}");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(Cancel));
        }).ToList();
        start.Release(64);
        var results = await Task.WhenAll(buyers);
        await stopSampling.CancelAsync();
        await sampler;

        Assert.Equal(10, results.Count(r => r.StatusCode == HttpStatusCode.Created));
        var refused = results.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        Assert.Equal(54, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal("/problems/out-of-stock", JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString());
        });
        Assert.True(samples > 0);
        Assert.Empty(violations);

        var stock = await server.Client.GetFromJsonAsync<StockView>("/inventory/skus/HOT-1", Cancel);
        Assert.Equal(new StockView("HOT-1", 10, 10, 0, stock!.Version), stock);
        var db = server.Databases[CommerceService.Inventory];
        Assert.Equal(10L, await db.ScalarAsApp<long>("SELECT count(*) FROM reservations WHERE state = 'held'"));
        Assert.Equal(10L, await db.ScalarAsApp<long>("SELECT sum(quantity) FROM reservations WHERE state = 'held'"));
    }

    [Fact]
    public async Task Twenty_concurrent_posts_with_one_key_hold_stock_once_and_replay_byte_for_byte()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 100 })).EnsureSuccessStatusCode();
        var body = new { orderId = Guid.NewGuid(), sku = "SKU-1", quantity = 3 };

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            var response = await server.PostAsync("/inventory/reservations", body, idempotencyKey: "one-key");
            return (response.StatusCode, Replayed: response.Headers.Contains("Idempotent-Replayed"), Body: await response.Content.ReadAsByteArrayAsync(Cancel));
        }));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{r.StatusCode}"));
        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.Single(created, r => !r.Replayed); // exactly one request did the work
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.Conflict),
            r => Assert.Contains("idempotency-key-in-flight", Encoding.UTF8.GetString(r.Body), StringComparison.Ordinal));

        var replay = await server.PostAsync("/inventory/reservations", body, idempotencyKey: "one-key");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(created.Single(r => !r.Replayed).Body, await replay.Content.ReadAsByteArrayAsync(Cancel));
        Assert.All(created, r => Assert.Equal(created[0].Body, r.Body));

        var stock = await server.Client.GetFromJsonAsync<StockView>("/inventory/skus/SKU-1", Cancel);
        Assert.Equal(3, stock!.Reserved);
    }

    [Fact]
    public async Task One_key_with_a_different_request_is_refused_and_a_missing_key_is_required()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 100 })).EnsureSuccessStatusCode();
        var order = Guid.NewGuid();
        (await server.PostAsync("/inventory/reservations", new { orderId = order, sku = "SKU-1", quantity = 1 }, "k1")).EnsureSuccessStatusCode();

        var reused = await server.PostAsync("/inventory/reservations", new { orderId = order, sku = "SKU-1", quantity = 2 }, "k1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Contains("idempotency-key-reused", await reused.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);

        var missing = await server.PostAsync("/inventory/reservations", new { orderId = order, sku = "SKU-1", quantity = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("idempotency-key-required", await missing.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_if_match_gets_412_with_the_current_representation()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        var created = await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 5 });
        var etag = created.Headers.ETag!.ToString();

        async Task<HttpResponseMessage> Put(int onHand, string? ifMatch)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "/inventory/skus/SKU-1/on-hand") { Content = JsonContent.Create(new { onHand }) };
            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }
            return await server.Client.SendAsync(request, Cancel);
        }

        var first = await Put(7, etag);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.NotEqual(etag, first.Headers.ETag!.ToString());

        var stale = await Put(9, etag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        var problem = JsonDocument.Parse(await stale.Content.ReadAsStringAsync(Cancel)).RootElement;
        Assert.Equal("/problems/version-mismatch", problem.GetProperty("type").GetString());
        Assert.Equal(7, problem.GetProperty("current").GetProperty("onHand").GetInt32());
        Assert.Equal(first.Headers.ETag!.ToString(), stale.Headers.ETag!.ToString());

        Assert.Equal(HttpStatusCode.PreconditionRequired, (await Put(9, null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Put(9, "W/\"2\"")).StatusCode);
    }

    [Fact]
    public async Task Release_and_commit_move_stock_once_even_when_retried()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 10 })).EnsureSuccessStatusCode();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        (await server.PostAsync("/inventory/reservations", new { orderId = a, sku = "SKU-1", quantity = 2 }, "a")).EnsureSuccessStatusCode();
        (await server.PostAsync("/inventory/reservations", new { orderId = b, sku = "SKU-1", quantity = 3 }, "b")).EnsureSuccessStatusCode();

        for (var attempt = 0; attempt < 2; attempt++)
        {
            Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/inventory/reservations/{a}/SKU-1/commit", new { })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/inventory/reservations/{b}/SKU-1/release", new { })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Conflict, (await server.PostAsync($"/inventory/reservations/{a}/SKU-1/release", new { })).StatusCode);

        var stock = await server.Client.GetFromJsonAsync<StockView>("/inventory/skus/SKU-1", Cancel);
        Assert.Equal((8, 0), (stock!.OnHand, stock.Reserved));
    }
}

public sealed class IdempotencyExpiryTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_key_is_remembered_for_24_hours_then_forgotten_and_swept()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await CommerceServer.StartAsync(fixture, time, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 100 })).EnsureSuccessStatusCode();
        var first = new { orderId = Guid.NewGuid(), sku = "SKU-1", quantity = 1 };
        var second = new { orderId = Guid.NewGuid(), sku = "SKU-1", quantity = 2 };
        (await server.PostAsync("/inventory/reservations", first, "day-key")).EnsureSuccessStatusCode();

        time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await server.PostAsync("/inventory/reservations", second, "day-key")).StatusCode);

        time.Advance(TimeSpan.FromHours(2)); // 25 h: the key has expired and starts a new life
        var reused = await server.PostAsync("/inventory/reservations", second, "day-key");
        Assert.Equal(HttpStatusCode.Created, reused.StatusCode);
        Assert.False(reused.Headers.Contains("Idempotent-Replayed"));

        // The sweeper runs on the host's clock: a key past its lifetime disappears.
        (await server.PostAsync("/inventory/reservations", new { orderId = Guid.NewGuid(), sku = "SKU-1", quantity = 1 }, "other-key")).EnsureSuccessStatusCode();
        var db = server.Databases[CommerceService.Inventory];
        Assert.Equal(2L, await db.ScalarAsApp<long>("SELECT count(*) FROM idempotency_keys"));
        time.Advance(TimeSpan.FromHours(25));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await db.ScalarAsApp<long>("SELECT count(*) FROM idempotency_keys") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sweeper did not remove expired keys");
            time.Advance(TimeSpan.FromMinutes(5));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}

public sealed class HoldExpiryTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_expired_hold_cannot_be_sold_and_the_sweeper_returns_its_stock()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 5 })).EnsureSuccessStatusCode();
        var order = Guid.NewGuid();
        (await server.PostAsync("/inventory/reservations", new { orderId = order, sku = "SKU-1", quantity = 3, holdSeconds = 10 }, "hold")).EnsureSuccessStatusCode();
        var db = server.Databases[CommerceService.Inventory];
        await db.ExecuteAsAdmin("UPDATE reservations SET expires_at = now() - interval '1 second'"); // let the hold lapse

        var commit = await server.PostAsync($"/inventory/reservations/{order}/SKU-1/commit", new { });
        Assert.Equal(HttpStatusCode.Conflict, commit.StatusCode);
        Assert.Contains("expired", await commit.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        await using var source = NpgsqlDataSource.Create(db.AppConnectionString);
        Assert.Equal(1, await InventoryApi.ReleaseExpiredHoldsAsync(source, 100, TestContext.Current.CancellationToken));
        Assert.Equal(0, await InventoryApi.ReleaseExpiredHoldsAsync(source, 100, TestContext.Current.CancellationToken));
        var stock = await server.Client.GetFromJsonAsync<StockView>("/inventory/skus/SKU-1", TestContext.Current.CancellationToken);
        Assert.Equal((5, 0), (stock!.OnHand, stock.Reserved));
        Assert.Equal("inventory:hold-sweeper", await db.ScalarAsApp<string>(
            "SELECT actor FROM audit_log WHERE table_name = 'reservations' AND operation = 'UPDATE' ORDER BY id DESC LIMIT 1"));
    }
}
