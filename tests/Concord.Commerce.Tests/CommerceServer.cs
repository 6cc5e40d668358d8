using System.Net.Http.Json;
using Concord.Commerce;
using Concord.Commerce.Http;
using Concord.Testing;
using Microsoft.AspNetCore.Builder;

namespace Concord.Commerce.Tests;

/// <summary>The commerce host on a free loopback port over freshly provisioned databases: real Kestrel, real HTTP.</summary>
internal sealed class CommerceServer : IAsyncDisposable
{
    readonly WebApplication _app;

    CommerceServer(WebApplication app, HttpClient client, IReadOnlyDictionary<CommerceService, CommerceDatabase> databases)
    {
        _app = app;
        Client = client;
        Databases = databases;
    }

    public HttpClient Client { get; }

    public IReadOnlyDictionary<CommerceService, CommerceDatabase> Databases { get; }

    public static Task<CommerceServer> StartAsync(PostgresFixture fixture, params CommerceService[] services) =>
        StartAsync(fixture, TimeProvider.System, services);

    public static Task<CommerceServer> StartAsync(PostgresFixture fixture, TimeProvider time, params CommerceService[] services) =>
        StartAsync(fixture, time, options => options, services);

    /// <param name="configure">Adjusts the host's options (e.g. turns on sagas) before it is built.</param>
    public static async Task<CommerceServer> StartAsync(PostgresFixture fixture, TimeProvider time, Func<CommerceHostOptions, CommerceHostOptions> configure,
        params CommerceService[] services)
    {
        var databases = new Dictionary<CommerceService, CommerceDatabase>();
        foreach (var service in services)
        {
            databases[service] = await CommerceDatabase.ProvisionAsync(fixture, service);
        }
        var app = CommerceHost.Build(configure(new CommerceHostOptions
        {
            ConnectionStrings = databases.ToDictionary(d => d.Key, d => d.Value.AppConnectionString),
            Urls = "http://127.0.0.1:0",
            Time = time,
        }));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(30) };
        return new CommerceServer(app, client, databases);
    }

    public async Task<HttpResponseMessage> PostAsync(string path, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
