using System.Net;
using System.Text;
using System.Text.Json;
using Concord.Commerce;
using Concord.Testing;

namespace Concord.Commerce.Tests;

/// <summary>A user's mistake gets the intended 4xx and problem type as application/problem+json; never a 500.</summary>
public sealed class BadRequestTests(PostgresFixture fixture)
{
    public static TheoryData<string, string, string, string, int, string> Cases => new()
    {
        // name, path, content type, body, status, problem type
        { "malformed JSON", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": """, 400, "/problems/malformed-request" },
        { "wrong JSON type", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1", "quantity": "two"}""", 400, "/problems/malformed-request" },
        { "unknown field", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1", "quantity": 1, "price": 5}""", 400, "/problems/malformed-request" },
        { "missing field", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1"}""", 400, "/problems/malformed-request" },
        { "null for a required string", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": null, "quantity": 1}""", 400, "/problems/malformed-request" },
        { "wrong content type", "/inventory/reservations", "text/plain", "sku=SKU-1", 415, "/problems/unsupported-media-type" },
        { "zero quantity", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1", "quantity": 0}""", 400, "/problems/validation-failed" },
        { "negative quantity", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1", "quantity": -4}""", 400, "/problems/validation-failed" },
        { "absurd quantity", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1", "quantity": 1000000}""", 400, "/problems/validation-failed" },
        { "quantity beyond int", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "SKU-1", "quantity": 99999999999}""", 400, "/problems/malformed-request" },
        { "bad SKU format", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "sku 1; drop table", "quantity": 1}""", 400, "/problems/validation-failed" },
        { "unknown SKU", "/inventory/reservations", "application/json", """{"orderId": "6f1c1f52-0000-4000-8000-000000000001", "sku": "NOPE", "quantity": 1}""", 404, "/problems/not-found" },
        { "empty order id", "/inventory/reservations", "application/json", """{"orderId": "00000000-0000-0000-0000-000000000000", "sku": "SKU-1", "quantity": 1}""", 400, "/problems/validation-failed" },
        { "oversize body", "/inventory/reservations", "application/json", "{\"sku\": \"" + new string('A', 100_000) + "\"}", 413, "/problems/payload-too-large" },
        { "negative stock", "/inventory/skus", "application/json", """{"sku": "NEW-1", "onHand": -1}""", 400, "/problems/validation-failed" },
        { "duplicate SKU", "/inventory/skus", "application/json", """{"sku": "SKU-1", "onHand": 1}""", 409, "/problems/conflict" },
        { "unknown route", "/inventory/nothing-here", "application/json", "{}", 404, "" },
        { "order without lines", "/orders", "application/json", $$$"""{"customerId": "{{{Customer}}}", "currency": "EUR", "lines": []}""", 400, "/problems/validation-failed" },
        { "order with absurd quantity", "/orders", "application/json", $$$"""{"customerId": "{{{Customer}}}", "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 5000, "unitPriceMinor": 100}]}""", 400, "/problems/validation-failed" },
        { "order with a negative price", "/orders", "application/json", $$$"""{"customerId": "{{{Customer}}}", "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 1, "unitPriceMinor": -1}]}""", 400, "/problems/validation-failed" },
        { "order in a made-up currency", "/orders", "application/json", $$$"""{"customerId": "{{{Customer}}}", "currency": "euro", "lines": [{"sku": "SKU-1", "quantity": 1, "unitPriceMinor": 1}]}""", 400, "/problems/validation-failed" },
        { "order for an unknown customer", "/orders", "application/json", """{"customerId": "6f1c1f52-0000-4000-8000-00000000dead", "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 1, "unitPriceMinor": 1}]}""", 404, "/problems/not-found" },
        { "customer with a bad email", "/orders/customers", "application/json", """{"email": "not an email", "name": "X"}""", 400, "/problems/validation-failed" },
        { "transfer with a zero amount", "/payments/transfers", "application/json", """{"currency": "EUR", "kind": "transfer", "postings": [{"accountId": "alice", "side": "debit", "amountMinor": 0}, {"accountId": "shop", "side": "credit", "amountMinor": 0}]}""", 400, "/problems/validation-failed" },
        { "transfer with an unknown side", "/payments/transfers", "application/json", """{"currency": "EUR", "kind": "transfer", "postings": [{"accountId": "alice", "side": "sideways", "amountMinor": 5}, {"accountId": "shop", "side": "credit", "amountMinor": 5}]}""", 400, "/problems/malformed-request" },
        { "transfer of an unknown kind", "/payments/transfers", "application/json", """{"currency": "EUR", "kind": "gift", "postings": [{"accountId": "alice", "side": "debit", "amountMinor": 5}, {"accountId": "shop", "side": "credit", "amountMinor": 5}]}""", 400, "/problems/validation-failed" },
        { "transfer with one posting", "/payments/transfers", "application/json", """{"currency": "EUR", "kind": "transfer", "postings": [{"accountId": "alice", "side": "debit", "amountMinor": 5}]}""", 400, "/problems/validation-failed" },
        { "account with a positive floor", "/payments/accounts", "application/json", """{"id": "bob", "currency": "EUR", "floorMinor": 5}""", 400, "/problems/validation-failed" },
        { "duplicate account", "/payments/accounts", "application/json", """{"id": "alice", "currency": "EUR"}""", 409, "/problems/conflict" },
        { "product with a blank name", "/catalog/products", "application/json", """{"sku": "MUG-2", "name": "", "priceMinor": 5, "currency": "EUR"}""", 400, "/problems/validation-failed" },
        { "list beyond the page limit", "/catalog/products?limit=0", "", "", 400, "/problems/validation-failed" },
    };

    const string Customer = "6f1c1f52-0000-4000-8000-0000000000c1";

    // One server for every case: each case only reads or is refused, so they cannot disturb one another.
    static readonly SemaphoreSlim Gate = new(1);
    static CommerceServer? _server;

    async Task<CommerceServer> ServerAsync()
    {
        await Gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_server is null)
            {
                var server = await CommerceServer.StartAsync(fixture, CommerceService.Orders, CommerceService.Payments, CommerceService.Inventory,
                    CommerceService.Catalog);
                (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 5 })).EnsureSuccessStatusCode();
                (await server.PostAsync("/payments/accounts", new { id = "alice", currency = "EUR" })).EnsureSuccessStatusCode();
                await server.Databases[CommerceService.Orders].ExecuteAsApp(
                    $"INSERT INTO customers (id, email, name) VALUES ('{Customer}', 'c@example.com', 'C')");
                _server = server;
            }
            return _server;
        }
        finally
        {
            Gate.Release();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_bad_request_gets_its_status_and_problem_type(string name, string path, string contentType, string body, int status, string type)
    {
        var server = await ServerAsync();
        using var request = contentType.Length == 0
            ? new HttpRequestMessage(HttpMethod.Get, path)
            : new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        request.Headers.Add("Idempotency-Key", $"bad-{name}");
        var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.True(status == (int)response.StatusCode, $"{name}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        if (type.Length > 0)
        {
            Assert.Equal(type, problem.GetProperty("type").GetString());
        }
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Npgsql", text, StringComparison.Ordinal);
    }
}
