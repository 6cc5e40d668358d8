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
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_bad_request_gets_its_status_and_problem_type(string name, string path, string contentType, string body, int status, string type)
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 5 })).EnsureSuccessStatusCode();

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
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
