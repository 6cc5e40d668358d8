using System.Text.Json;
using System.Text.Json.Serialization;
using Concord.Commerce.Catalog;
using Concord.Commerce.Inventory;
using Concord.Commerce.Orders;
using Concord.Commerce.Payments;
using Concord.Commerce.Sagas;
using Concord.Core.Clocks;
using Concord.Postgres.Idempotency;
using Concord.Postgres.Messaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Metrics;

namespace Concord.Commerce.Http;

public sealed record CommerceHostOptions
{
    /// <summary>The application role's connection string for each service's own database.</summary>
    public required IReadOnlyDictionary<CommerceService, string> ConnectionStrings { get; init; }

    /// <summary>Where to listen, e.g. http://127.0.0.1:5080; port 0 picks a free port.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5080";

    public IdempotencyOptions Idempotency { get; init; } = new();

    /// <summary>
    /// Off only to measure what idempotency keys cost (<c>concord bench orders</c>): the key is then
    /// neither required nor recorded, and a retried request runs twice.
    /// </summary>
    public bool IdempotencyKeysEnabled { get; init; } = true;

    /// <summary>How often expired idempotency keys are swept.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often Inventory releases expired stock holds.</summary>
    public TimeSpan HoldSweepInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Request bodies beyond this get 413; every request here is a small JSON document.</summary>
    public long RequestBodyBytesMax { get; init; } = 64 * 1024;

    /// <summary>Bound on the distance of a remote HLC ahead of this host's clock.</summary>
    public long ClockOffsetMsMax { get; init; } = 500;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The order saga's store, runtime, deadline timer and /sagas endpoints, in the Orders database; null for none.</summary>
    public SagaStoreOptions? Sagas { get; init; }

    /// <summary>
    /// The saga's messaging: relays for every service outbox of this host, consumers executing saga
    /// commands, and the reply consumer; null for none (commands then wait in the outboxes).
    /// </summary>
    public SagaMessagingOptions? SagaMessaging { get; init; }

    public LogLevel LogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>
/// The commerce services in one ASP.NET Core host: Orders, Payments, Inventory and Catalog, each on
/// its own database, with problem details for every error and an OpenAPI document at /openapi/v1.json.
/// </summary>
public static class CommerceHost
{
    public static WebApplication Build(CommerceHostOptions options)
    {
        options.Idempotency.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.RequestBodyBytesMax);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // A failure to start (say, the port is taken) is thrown to the caller, who reports it; the host need not log it too.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        builder.Services.ConfigureHttpJsonOptions(json => Configure(json.SerializerOptions));
        // Binding failures throw, so ProblemExceptionHandler can say what was wrong and where.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.FillFrameworkProblem);
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddOpenApi();
        // GET /metrics: the outbox, queue and saga instruments in the Prometheus text format, through
        // the OpenTelemetry SDK (a host that ships OTLP instead adds its exporter to the same meters).
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MessagingMetrics.MeterName, SagaMetrics.MeterName)
            .AddPrometheusExporter());
        builder.Services.AddHttpContextAccessor();

        builder.Services.AddSingleton(options.Time);
        builder.Services.AddSingleton(new HybridLogicalClock(options.Time, options.ClockOffsetMsMax));
        // Created by factories, so the container disposes them (and their connection pools) on shutdown.
        builder.Services.AddSingleton(_ => new CommerceDataSources(
            options.ConnectionStrings.ToDictionary(p => p.Key, p => NpgsqlDataSource.Create(ForRequests(p.Value)))));
        foreach (var service in options.ConnectionStrings.Keys)
        {
            builder.Services.AddKeyedSingleton(service, (sp, _) =>
                new IdempotencyKeys(sp.GetRequiredService<CommerceDataSources>()[service], options.Time, options.Idempotency));
        }
        builder.Services.AddScoped<RequestTransaction>();
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService(sp => new PeriodicSweeper("expired idempotency keys", options.SweepInterval, options.Time,
            async ct =>
            {
                var swept = 0;
                foreach (var service in options.ConnectionStrings.Keys)
                {
                    swept += await sp.GetRequiredKeyedService<IdempotencyKeys>(service).SweepExpiredAsync(cancellationToken: ct).ConfigureAwait(false);
                }
                return swept;
            },
            sp.GetRequiredService<ILogger<PeriodicSweeper>>()));

        if (options.ConnectionStrings.ContainsKey(CommerceService.Inventory))
        {
            builder.Services.AddHostedService(sp => new PeriodicSweeper("expired stock holds", options.HoldSweepInterval, options.Time,
                ct => InventoryApi.ReleaseExpiredHoldsAsync(sp.GetRequiredService<CommerceDataSources>()[CommerceService.Inventory], 500, ct),
                sp.GetRequiredService<ILogger<PeriodicSweeper>>()));
        }

        var sagas = options.Sagas is not null && options.ConnectionStrings.ContainsKey(CommerceService.Orders);
        if (sagas)
        {
            SagaApi.AddSagaStore(builder.Services, options.Sagas!);
        }

        if (options.SagaMessaging is { } messaging)
        {
            messaging.Validate();
            builder.Services.AddHostedService(sp => new SagaMessagingService(messaging, sp.GetRequiredService<CommerceDataSources>(),
                [.. options.ConnectionStrings.Keys], sp.GetService<OrderSagaRuntime>(), sp.GetRequiredService<HybridLogicalClock>(),
                options.Time, sp.GetRequiredService<ILogger<SagaMessagingService>>()));
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Idempotency fingerprints hash the raw body after model binding has read it.
        app.Use((http, next) =>
        {
            http.Request.EnableBuffering();
            return next(http);
        });
        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint();
        foreach (var service in options.ConnectionStrings.Keys)
        {
            Action<IEndpointRouteBuilder> map = service switch
            {
                CommerceService.Orders => OrdersApi.Map,
                CommerceService.Payments => PaymentsApi.Map,
                CommerceService.Inventory => InventoryApi.Map,
                CommerceService.Catalog => CatalogApi.Map,
                _ => throw new ArgumentOutOfRangeException(nameof(options), service, "Unknown service."),
            };
            map(app);
        }
        if (sagas)
        {
            SagaApi.Map(app);
        }
        return app;
    }

    /// <summary>
    /// Pooled connections here carry no session state (the stamp is SET LOCAL, the idempotency lock
    /// is transaction-scoped), so the DISCARD ALL Npgsql sends on reuse buys nothing and costs much:
    /// it throws away every cached plan, and the audit and constraint triggers would be planned
    /// again in every request. Without it, the statements each request repeats can stay prepared.
    /// </summary>
    internal static string ForRequests(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true, MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 }.ConnectionString;

    internal static void Configure(JsonSerializerOptions json)
    {
        json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        json.RespectNullableAnnotations = true;
        json.RespectRequiredConstructorParameters = true;
        json.NumberHandling = JsonNumberHandling.Strict;
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }
}

/// <summary>Runs a bounded cleanup (expired idempotency keys, expired holds) now and then; a failed round is logged and retried next time.</summary>
internal sealed class PeriodicSweeper(string what, TimeSpan interval, TimeProvider time, Func<CancellationToken, Task<int>> sweep,
    ILogger<PeriodicSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            do
            {
                try
                {
                    await sweep(stoppingToken).ConfigureAwait(false);
                }
                catch (NpgsqlException e)
                {
                    log.LogWarning(e, "Sweeping {What} failed; the next round will retry.", what);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}
