using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Concord.Commerce;
using Concord.Commerce.Catalog;
using Concord.Commerce.Orders;
using Concord.Commerce.Payments;
using Concord.Testing;

namespace Concord.Commerce.Tests;

public sealed class OrdersPaymentsCatalogHttpTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    static async Task<T> Read<T>(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Cancel)}");
        return (await response.Content.ReadFromJsonAsync<T>(Cancel))!;
    }

    static async Task<string> ProblemType(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("type").GetString()!;

    static async Task<HttpResponseMessage> Send(CommerceServer server, HttpMethod method, string path, object body, string? ifMatch)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await server.Client.SendAsync(request, Cancel);
    }

    [Fact]
    public async Task Orders_compute_their_total_move_along_the_state_machine_and_are_created_once_per_key()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Orders);
        var customer = await Read<CustomerView>(await server.PostAsync("/orders/customers", new { email = "Ana@Example.com", name = "Ana" }));
        var duplicate = await server.PostAsync("/orders/customers", new { email = "ana@example.COM", name = "Other Ana" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);

        var body = new
        {
            customerId = customer.Id,
            currency = "EUR",
            lines = new[] { new { sku = "MUG-1", quantity = 2, unitPriceMinor = 900 }, new { sku = "TEA-7", quantity = 1, unitPriceMinor = 450 } },
        };
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => server.PostAsync("/orders", body, idempotencyKey: "checkout-1")));
        var orders = new List<OrderView>();
        foreach (var r in responses.Where(r => r.StatusCode == HttpStatusCode.Created))
        {
            orders.Add(await Read<OrderView>(r));
        }
        Assert.NotEmpty(orders);
        Assert.Single(orders.Select(o => o.Id).Distinct());
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        var order = orders[0];
        Assert.Equal(2250, order.TotalMinor);
        Assert.Equal(1L, await server.Databases[CommerceService.Orders].ScalarAsApp<long>("SELECT count(*) FROM orders"));

        var skip = await Send(server, HttpMethod.Post, $"/orders/{order.Id}/status", new { status = "confirmed" }, "\"1\"");
        Assert.Equal(HttpStatusCode.Conflict, skip.StatusCode);
        Assert.Equal("/problems/invalid-transition", await ProblemType(skip));

        var reserved = await Read<OrderView>(await Send(server, HttpMethod.Post, $"/orders/{order.Id}/status", new { status = "stock_reserved" }, "\"1\""));
        Assert.Equal(("stock_reserved", 2L), (reserved.Status, reserved.Version));
        var stale = await Send(server, HttpMethod.Post, $"/orders/{order.Id}/status", new { status = "cancelled" }, "\"1\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);

        var unknownCustomer = await server.PostAsync("/orders", body with { customerId = Guid.NewGuid() }, idempotencyKey: "checkout-2");
        Assert.Equal(HttpStatusCode.NotFound, unknownCustomer.StatusCode);
    }

    [Fact]
    public async Task A_refusal_at_commit_keeps_neither_the_effects_nor_the_idempotency_key()
    {
        // The key's record travels in one batch with COMMIT. A deferred constraint that refuses at
        // COMMIT (here a test-only one, switched by a row) must take the key down with the order,
        // answer 4xx, and leave the pooled connection clean for the next request.
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Orders);
        var db = server.Databases[CommerceService.Orders];
        await db.ExecuteAsAdmin(
            "CREATE TABLE refuse_orders (on_ boolean PRIMARY KEY)",
            "GRANT SELECT ON refuse_orders TO concord_app",
            """
            CREATE FUNCTION refuse_order() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM refuse_orders) THEN
                    RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'check_violation', CONSTRAINT = 'test_refuse_order';
                END IF;
                RETURN NULL;
            END $$
            """,
            "CREATE CONSTRAINT TRIGGER test_refuse_order AFTER INSERT ON orders DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_order()",
            "INSERT INTO refuse_orders VALUES (true)");
        var customer = await Read<CustomerView>(await server.PostAsync("/orders/customers", new { email = "commit@example.com", name = "C" }));
        var body = new { customerId = customer.Id, currency = "EUR", lines = new[] { new { sku = "MUG-1", quantity = 1, unitPriceMinor = 900 } } };

        var refused = await server.PostAsync("/orders", body, idempotencyKey: "refused-at-commit");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Equal(0L, await db.ScalarAsApp<long>("SELECT count(*) FROM orders"));
        Assert.Equal(0L, await db.ScalarAsApp<long>("SELECT count(*) FROM idempotency_keys"));

        await db.ExecuteAsAdmin("DELETE FROM refuse_orders");
        // Same key again: it was never recorded, so the request runs (on a pooled connection that
        // must not still be in the failed transaction) and succeeds once.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/orders", body, idempotencyKey: "refused-at-commit")).StatusCode);
        }
        Assert.Equal(1L, await db.ScalarAsApp<long>("SELECT count(*) FROM orders"));
        Assert.Equal(1L, await db.ScalarAsApp<long>("SELECT count(*) FROM idempotency_keys"));
    }

    [Fact]
    public async Task The_ledger_moves_money_once_per_key_and_never_below_a_floor()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Payments);
        foreach (var account in new object[]
        {
            new { id = "world", currency = "EUR", floorMinor = -1_000_000_000L },
            new { id = "alice", currency = "EUR", floorMinor = 0L },
            new { id = "shop", currency = "EUR", floorMinor = 0L },
            new { id = "bob-usd", currency = "USD", floorMinor = 0L },
        })
        {
            (await server.PostAsync("/payments/accounts", account)).EnsureSuccessStatusCode();
        }
        object Move(string from, string to, long amount, string kind = "transfer") => new
        {
            currency = "EUR",
            kind,
            postings = new[] { new { accountId = from, side = "debit", amountMinor = amount }, new { accountId = to, side = "credit", amountMinor = amount } },
        };

        (await server.PostAsync("/payments/transfers", Move("world", "alice", 1000, "deposit"), "deposit-1")).EnsureSuccessStatusCode();

        var payments = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => server.PostAsync("/payments/transfers", Move("alice", "shop", 600), "pay-1")));
        Assert.Contains(payments, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(payments, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict));

        var overdraft = await server.PostAsync("/payments/transfers", Move("alice", "shop", 600), "pay-2");
        Assert.Equal(HttpStatusCode.Conflict, overdraft.StatusCode);
        Assert.Equal("/problems/insufficient-funds", await ProblemType(overdraft));

        var alice = await server.Client.GetFromJsonAsync<AccountView>("/payments/accounts/alice", Cancel);
        var shop = await server.Client.GetFromJsonAsync<AccountView>("/payments/accounts/shop", Cancel);
        Assert.Equal((400L, 600L), (alice!.BalanceMinor, shop!.BalanceMinor));

        var unbalanced = await server.PostAsync("/payments/transfers", new
        {
            currency = "EUR",
            kind = "transfer",
            postings = new[] { new { accountId = "alice", side = "debit", amountMinor = 10L }, new { accountId = "shop", side = "credit", amountMinor = 9L } },
        }, "pay-3");
        Assert.Equal(HttpStatusCode.BadRequest, unbalanced.StatusCode);
        Assert.Contains("must equal credits", await unbalanced.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);

        var mixed = await server.PostAsync("/payments/transfers", Move("alice", "bob-usd", 10), "pay-4");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, mixed.StatusCode);
        var unknown = await server.PostAsync("/payments/transfers", Move("alice", "nobody", 10), "pay-5");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Opposite_transfers_at_once_never_deadlock()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Payments);
        foreach (var account in new object[]
        {
            new { id = "world", currency = "EUR", floorMinor = -1_000_000_000L },
            new { id = "alice", currency = "EUR", floorMinor = 0L },
            new { id = "shop", currency = "EUR", floorMinor = 0L },
        })
        {
            (await server.PostAsync("/payments/accounts", account)).EnsureSuccessStatusCode();
        }
        object Move(string from, string to, long amount) => new
        {
            currency = "EUR",
            kind = "transfer",
            postings = new[] { new { accountId = from, side = "debit", amountMinor = amount }, new { accountId = to, side = "credit", amountMinor = amount } },
        };
        (await server.PostAsync("/payments/transfers", Move("world", "alice", 10_000), "seed-alice")).EnsureSuccessStatusCode();
        (await server.PostAsync("/payments/transfers", Move("world", "shop", 10_000), "seed-shop")).EnsureSuccessStatusCode();

        // Each transfer locks both accounts; listed in opposite orders, they would deadlock without a lock order.
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            server.PostAsync("/payments/transfers", i % 2 == 0 ? Move("alice", "shop", 7) : Move("shop", "alice", 5), $"swap-{i}")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var alice = await server.Client.GetFromJsonAsync<AccountView>("/payments/accounts/alice", Cancel);
        Assert.Equal(10_000 - (20 * 7) + (20 * 5), alice!.BalanceMinor);
    }

    [Fact]
    public async Task Catalog_updates_are_conditional_on_the_version_read()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Catalog);
        var created = await server.PostAsync("/catalog/products", new { sku = "MUG-1", name = "Mug", priceMinor = 900, currency = "EUR" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        (await server.PostAsync("/catalog/products", new { sku = "TEA-7", name = "Tea", priceMinor = 450, currency = "EUR" })).EnsureSuccessStatusCode();

        var updated = await Read<ProductView>(await Send(server, HttpMethod.Put, "/catalog/products/MUG-1", new { name = "Mug", priceMinor = 950, currency = "EUR" },
            created.Headers.ETag!.ToString()));
        Assert.Equal((950L, 2L), (updated.PriceMinor, updated.Version));

        var stale = await Send(server, HttpMethod.Put, "/catalog/products/MUG-1", new { name = "Mug", priceMinor = 1, currency = "EUR" }, created.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);

        var page = await server.Client.GetFromJsonAsync<List<ProductView>>("/catalog/products?limit=1", Cancel);
        var next = await server.Client.GetFromJsonAsync<List<ProductView>>($"/catalog/products?limit=1&after={page![0].Sku}", Cancel);
        Assert.Equal(["MUG-1", "TEA-7"], page.Concat(next!).Select(p => p.Sku));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Client.GetAsync("/catalog/products?limit=5000", Cancel)).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_service()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Orders, CommerceService.Payments,
            CommerceService.Inventory, CommerceService.Catalog);
        var document = JsonDocument.Parse(await server.Client.GetStringAsync("/openapi/v1.json", Cancel)).RootElement;
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/orders", paths);
        Assert.Contains("/payments/transfers", paths);
        Assert.Contains("/inventory/reservations", paths);
        Assert.Contains("/catalog/products/{sku}", paths);
    }
}
