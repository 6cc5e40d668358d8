using System.Text.Json;
using Concord.Commerce.Http;
using Concord.Core.Clocks;
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

/// <summary>Read-only HTTP views of the saga store, for operators: one saga with its history, and the stuck ones.</summary>
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
