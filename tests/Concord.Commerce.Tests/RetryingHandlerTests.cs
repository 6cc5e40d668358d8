using System.Net;
using System.Net.Http.Json;
using Concord.Commerce;
using Concord.Commerce.Client;
using Concord.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Concord.Commerce.Tests;

public sealed class RetryingHandlerTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A real server that fails the first two attempts of every request with 503.</summary>
    static async Task<(WebApplication App, Func<int> Attempts)> FlakyServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var attempts = 0;
        app.Map("/{**path}", (HttpContext http) => Interlocked.Increment(ref attempts) % 3 == 0 ? Results.Ok("done") : Results.StatusCode(503));
        await app.StartAsync(Cancel);
        return (app, () => Volatile.Read(ref attempts));
    }

    static HttpClient Client(WebApplication app) =>
        new(new RetryingHandler(new SocketsHttpHandler(), baseDelay: TimeSpan.FromMilliseconds(1))) { BaseAddress = new Uri(app.Urls.Single()) };

    [Fact]
    public async Task Safe_requests_are_retried_until_they_succeed()
    {
        var (app, attempts) = await FlakyServerAsync();
        await using var _ = app;
        using var client = Client(app);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/x", Cancel)).StatusCode);
        Assert.Equal(3, attempts());

        using var keyed = new HttpRequestMessage(HttpMethod.Post, "/y") { Content = JsonContent.Create(new { a = 1 }) };
        keyed.Headers.Add("Idempotency-Key", "k");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(keyed, Cancel)).StatusCode);
        Assert.Equal(6, attempts());
    }

    [Fact]
    public async Task A_post_without_an_idempotency_key_is_sent_once()
    {
        var (app, attempts) = await FlakyServerAsync();
        await using var _ = app;
        using var client = Client(app);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsJsonAsync("/pay", new { amount = 5 }, Cancel)).StatusCode);
        Assert.Equal(1, attempts());

        using var unconditionalPut = new HttpRequestMessage(HttpMethod.Put, "/thing") { Content = JsonContent.Create(new { a = 1 }) };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.SendAsync(unconditionalPut, Cancel)).StatusCode);
        Assert.Equal(2, attempts());
    }

    [Fact]
    public async Task An_in_flight_key_is_waited_out_past_the_attempt_budget_but_not_past_the_time_budget()
    {
        // 409 + Retry-After for twice as many attempts as a failure may take, then the replay.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        var attempts = 0;
        app.MapPost("/orders", (HttpContext http) =>
        {
            if (Interlocked.Increment(ref attempts) <= 2 * RetryingHandler.AttemptsMax)
            {
                http.Response.Headers.RetryAfter = "0";
                return Results.StatusCode(409);
            }
            return Results.Created("/orders/1", "replayed");
        });
        app.MapPost("/conflict", () => Results.StatusCode(409));
        await app.StartAsync(Cancel);
        using var client = Client(app);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(new { a = 1 }) };
        request.Headers.Add("Idempotency-Key", "slow-first");
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(request, Cancel)).StatusCode);
        Assert.Equal(2 * RetryingHandler.AttemptsMax + 1, Volatile.Read(ref attempts));

        // A 409 without Retry-After is a verdict (say, an optimistic-concurrency conflict), not a wait.
        using var conflict = new HttpRequestMessage(HttpMethod.Post, "/conflict") { Content = JsonContent.Create(new { a = 1 }) };
        conflict.Headers.Add("Idempotency-Key", "conflict");
        Assert.Equal(HttpStatusCode.Conflict, (await client.SendAsync(conflict, Cancel)).StatusCode);
    }

    [Fact]
    public async Task A_duplicate_that_finds_its_key_in_flight_waits_for_the_replay()
    {
        await using var server = await CommerceServer.StartAsync(fixture, CommerceService.Inventory);
        (await server.PostAsync("/inventory/skus", new { sku = "SKU-1", onHand = 50 })).EnsureSuccessStatusCode();
        using var client = new HttpClient(new RetryingHandler(new SocketsHttpHandler(), baseDelay: TimeSpan.FromMilliseconds(20)))
        {
            BaseAddress = server.Client.BaseAddress,
        };
        // Warm the reservation path so the race measures the key, not the first request's JIT.
        using (var warm = Keyed(new { orderId = Guid.NewGuid(), sku = "SKU-1", quantity = 1 }, "warm"))
        {
            Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(warm, Cancel)).StatusCode);
        }
        var body = new { orderId = Guid.NewGuid(), sku = "SKU-1", quantity = 2 };

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var request = Keyed(body, "retried");
            var response = await client.SendAsync(request, Cancel);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(Cancel));
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Single(responses.Select(r => r.Body).Distinct());
        Assert.Equal(1 + 2, await server.Databases[CommerceService.Inventory].ScalarAsApp<int>("SELECT reserved FROM stock"));
    }

    static HttpRequestMessage Keyed(object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/inventory/reservations") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }
}
