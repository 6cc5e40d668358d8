using System.Text.Json;
using Concord.Commerce.Http;
using Concord.Commerce.Orders;
using Concord.Core.Clocks;
using Concord.Messaging.Sagas.Orders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Concord.Commerce.Sagas;

/// <summary>One stored transition: the event, the states either side (as labels), the effects and why.</summary>
public sealed record SagaTransitionView(long Sequence, DateTimeOffset At, string From, JsonElement Event, string To, JsonElement Effects, string Note);

/// <summary>A saga as stored: <see cref="State"/> is the pure core's state as JSON (without history, which is <see cref="History"/>).</summary>
public sealed record SagaView(string Id, string Type, string Status, long Version, DateTimeOffset StartedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? NextDeadlineAt, JsonElement State, IReadOnlyList<SagaTransitionView>? History);

/// <summary>An order to run through the order saga: Orders' order fields plus the payment account to charge.</summary>
public sealed record CheckoutRequest(Guid CustomerId, string Currency, string PaymentAccountId, IReadOnlyList<OrderLineRequest> Lines);

/// <summary>The saga started for a checkout; follow it at <c>/sagas/{SagaId}</c> and the order at <c>/orders/{OrderId}</c>.</summary>
public sealed record CheckoutView(Guid OrderId, string SagaId, string Status);

/// <summary>
/// The saga's HTTP surface: <c>POST /orders/checkout</c> starts an order saga; read-only views of the
/// saga store for operators: one saga with its history, and the stuck ones.
/// </summary>
internal static class SagaApi
{
    const int ListMax = 100;

    public static void AddSagaStore(IServiceCollection services, SagaStoreOptions options)
    {
        options.Validate();
        services.AddSingleton(sp => new OrderSagaRuntime(
            sp.GetRequiredService<CommerceDataSources>()[CommerceService.Orders], options, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<HybridLogicalClock>(), sp.GetRequiredService<ILogger<OrderSagaRuntime>>()));
        services.AddHostedService<SagaDeadlineService>();
    }

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/sagas").WithTags("Sagas")
            .WithMetadata(new ServiceDatabase(CommerceService.Orders))
            .AddEndpointFilter<TransactionFilter>();
        group.MapGet("/{id}", GetSaga).WithName("GetSaga");
        group.MapGet("/", ListSagas).WithName("ListSagas");
        routes.MapPost("/orders/checkout", Checkout).WithName("Checkout").WithTags("Orders", "Sagas")
            .WithMetadata(new ServiceDatabase(CommerceService.Orders), new RequiresIdempotencyKey())
            .AddEndpointFilter<TransactionFilter>();
    }

    /// <summary>
    /// Starts the order saga in the request's transaction (so the Idempotency-Key's record and the
    /// saga commit together) and answers 202: the order is created by the saga's first step, then
    /// moves to confirmed or cancelled as the services answer.
    /// </summary>
    static async Task<IResult> Checkout(CheckoutRequest request, RequestTransaction db, OrderSagaRuntime runtime, CancellationToken ct)
    {
        var order = new PlaceOrderRequest(request.CustomerId, request.Currency, request.Lines);
        var account = new Validation().AccountId("paymentAccountId", request.PaymentAccountId);
        if (account.Failed)
        {
            return Problems.Validation(account.Errors);
        }
        if (await OrdersApi.CheckNewOrderAsync(db, order, ct) is { } problem)
        {
            return problem;
        }
        var data = new OrderSagaData(Guid.CreateVersion7(), request.CustomerId, request.Currency, request.PaymentAccountId,
            [.. request.Lines.Select(l => new OrderLine(l.Sku, l.Quantity, l.UnitPriceMinor))]);
        await db.EnsureStartedAsync(ct);
        var started = await runtime.StartAsync(db.Connection, db.Transaction, data, ct)
            ?? throw new InvalidOperationException($"A new order's saga {OrderSaga.SagaId(data.OrderId)} already exists.");
        var sagaId = started.State.SagaId;
        return TypedResults.Accepted($"/sagas/{sagaId}", new CheckoutView(data.OrderId, sagaId, OrderSagaRuntime.StatusName(started.State.Status)));
    }

    static async Task<IResult> GetSaga(string id, RequestTransaction db, CancellationToken ct)
    {
        await using var select = await db.CommandAsync(SelectColumns + " WHERE saga_id = @id", ct);
        select.Parameters.AddWithValue("id", id);
        var sagas = await ReadAsync(select, ct);
        if (sagas.Count == 0)
        {
            return Problems.NotFoundResult($"Saga '{id}'");
        }
        await using var history = await db.CommandAsync("""
            SELECT sequence, at, from_state, event::text, to_state, effects::text, note
              FROM saga_transitions WHERE saga_id = @id ORDER BY sequence
            """, ct);
        history.Parameters.AddWithValue("id", id);
        var transitions = new List<SagaTransitionView>();
        await using (var reader = await history.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                transitions.Add(new SagaTransitionView(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2),
                    Json(reader.GetString(3)), reader.GetString(4), Json(reader.GetString(5)), reader.GetString(6)));
            }
        }
        return TypedResults.Ok(sagas[0] with { History = transitions });
    }

    /// <summary>
    /// <c>?stuck=true</c>: live (running or compensating) sagas whose deadline is older than now
    /// minus <see cref="SagaStoreOptions.StuckGrace"/>, oldest first. A live saga always has a timer
    /// armed, so one that far past it has made no progress the deadline service should have forced.
    /// Without it: the most recently updated sagas.
    /// </summary>
    static async Task<IResult> ListSagas(bool? stuck, RequestTransaction db, OrderSagaRuntime runtime, TimeProvider time, CancellationToken ct)
    {
        NpgsqlCommand select;
        if (stuck == true)
        {
            select = await db.CommandAsync(SelectColumns + """
                 WHERE status IN ('running', 'compensating') AND next_deadline_at < @cutoff
                 ORDER BY next_deadline_at LIMIT @limit
                """, ct);
            select.Parameters.AddWithValue("cutoff", time.GetUtcNow() - runtime.Options.StuckGrace);
        }
        else
        {
            select = await db.CommandAsync(SelectColumns + " ORDER BY updated_at DESC LIMIT @limit", ct);
        }
        await using (select)
        {
            select.Parameters.AddWithValue("limit", ListMax);
            return TypedResults.Ok(await ReadAsync(select, ct));
        }
    }

    const string SelectColumns = "SELECT saga_id, saga_type, status, version, started_at, updated_at, next_deadline_at, state::text FROM saga_instances";

    static async Task<List<SagaView>> ReadAsync(NpgsqlCommand select, CancellationToken ct)
    {
        var sagas = new List<SagaView>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            sagas.Add(new SagaView(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), Json(reader.GetString(7)), null));
        }
        return sagas;
    }

    static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
