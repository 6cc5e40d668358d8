using Concord.Commerce.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace Concord.Commerce.Inventory;

public sealed record CreateSkuRequest(string Sku, int OnHand);

public sealed record SetOnHandRequest(int OnHand);

public sealed record StockView(string Sku, int OnHand, int Reserved, int Available, long Version);

public sealed record ReserveRequest(Guid OrderId, string Sku, int Quantity, int? HoldSeconds = null);

public sealed record ReservationView(Guid OrderId, string Sku, int Quantity, string State, DateTimeOffset ExpiresAt, long Version);

/// <summary>
/// Inventory over HTTP. Stock is never oversold because a reservation is one conditional UPDATE
/// (<c>WHERE on_hand - reserved &gt;= quantity</c>) on the primary, and the schema refuses
/// <c>reserved &gt; on_hand</c> regardless.
/// </summary>
public static class InventoryApi
{
    public const int QuantityMax = 1000;
    public const int OnHandMax = 10_000_000;
    const int DefaultHoldSeconds = 900;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/inventory").WithTags("Inventory")
            .WithMetadata(new ServiceDatabase(CommerceService.Inventory))
            .AddEndpointFilter<TransactionFilter>();

        group.MapPost("/skus", CreateSku).WithName("CreateSku");
        group.MapGet("/skus/{sku}", GetSku).WithName("GetSku");
        group.MapPut("/skus/{sku}/on-hand", SetOnHand).WithName("SetOnHand");
        group.MapPost("/reservations", Reserve).WithName("Reserve").WithMetadata(new RequiresIdempotencyKey());
        group.MapGet("/reservations/{orderId:guid}/{sku}", GetReservation).WithName("GetReservation");
        group.MapPost("/reservations/{orderId:guid}/{sku}/release", Release).WithName("ReleaseReservation");
        group.MapPost("/reservations/{orderId:guid}/{sku}/commit", Commit).WithName("CommitReservation");
    }

    static async Task<IResult> CreateSku(CreateSkuRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var check = new Validation().Sku("sku", request.Sku).Range("onHand", request.OnHand, 0, OnHandMax);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }
        await using var insert = await db.CommandAsync(
            "INSERT INTO stock (sku, on_hand) VALUES (@sku, @on_hand) ON CONFLICT (sku) DO NOTHING RETURNING " + StockColumns, ct);
        insert.Parameters.AddWithValue("sku", request.Sku);
        insert.Parameters.AddWithValue("on_hand", request.OnHand);
        var created = await ReadStockAsync(insert, ct);
        if (created is null)
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.Conflict, "SKU exists", $"SKU {request.Sku} already exists.");
        }
        ETags.Set(http, created.Version);
        return TypedResults.Created($"/inventory/skus/{created.Sku}", created);
    }

    static async Task<IResult> GetSku(string sku, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var stock = await FindStockAsync(db, sku, ct);
        if (stock is null)
        {
            return Problems.NotFoundResult($"SKU {sku}");
        }
        ETags.Set(http, stock.Version);
        return TypedResults.Ok(stock);
    }

    static async Task<IResult> SetOnHand(string sku, SetOnHandRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        if (!ETags.TryReadIfMatch(http, out var expected, out var precondition))
        {
            return precondition!;
        }
        var check = new Validation().Range("onHand", request.OnHand, 0, OnHandMax);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }
        await using var update = await db.CommandAsync($"""
            UPDATE stock SET on_hand = @on_hand, version = version + 1, updated_at = now()
             WHERE sku = @sku AND version = @version AND reserved <= @on_hand
            RETURNING {StockColumns}
            """, ct);
        update.Parameters.AddWithValue("sku", sku);
        update.Parameters.AddWithValue("on_hand", request.OnHand);
        update.Parameters.AddWithValue("version", expected);
        if (await ReadStockAsync(update, ct) is { } updated)
        {
            ETags.Set(http, updated.Version);
            return TypedResults.Ok(updated);
        }
        var current = await FindStockAsync(db, sku, ct);
        if (current is null)
        {
            return Problems.NotFoundResult($"SKU {sku}");
        }
        if (current.Version != expected)
        {
            return ETags.VersionMismatch(http, expected, current.Version, current);
        }
        return Problems.Result(StatusCodes.Status409Conflict, Problems.Conflict, "Below reserved",
            $"on hand cannot drop to {request.OnHand}: {current.Reserved} units of {sku} are reserved.");
    }

    static async Task<IResult> Reserve(ReserveRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var check = new Validation()
            .NotEmpty("orderId", request.OrderId)
            .Sku("sku", request.Sku)
            .Range("quantity", request.Quantity, 1, QuantityMax)
            .Range("holdSeconds", request.HoldSeconds ?? DefaultHoldSeconds, 10, 86_400);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }

        // The guard and the hold in one statement: the UPDATE takes the row lock, re-checks the
        // condition against the latest committed row, and only then is the reservation inserted.
        await using var reserve = await db.CommandAsync("""
            WITH held AS (
                UPDATE stock SET reserved = reserved + @quantity, version = version + 1, updated_at = now()
                 WHERE sku = @sku AND on_hand - reserved >= @quantity
                RETURNING sku)
            INSERT INTO reservations (order_id, sku, quantity, expires_at)
            SELECT @order_id, held.sku, @quantity, now() + make_interval(secs => @hold_seconds) FROM held
            ON CONFLICT (order_id, sku) DO NOTHING
            RETURNING order_id, sku, quantity, state, expires_at, version
            """, ct);
        reserve.Parameters.AddWithValue("order_id", request.OrderId);
        reserve.Parameters.AddWithValue("sku", request.Sku);
        reserve.Parameters.AddWithValue("quantity", request.Quantity);
        reserve.Parameters.AddWithValue("hold_seconds", (double)(request.HoldSeconds ?? DefaultHoldSeconds));
        if (await ReadReservationAsync(reserve, ct) is { } reservation)
        {
            ETags.Set(http, reservation.Version);
            return TypedResults.Created($"/inventory/reservations/{reservation.OrderId}/{reservation.Sku}", reservation);
        }

        // Nothing held: say why. (The filter rolls back whatever the statement did, e.g. a stock
        // update whose reservation insert hit ON CONFLICT.)
        var stock = await FindStockAsync(db, request.Sku, ct);
        if (stock is null)
        {
            return Problems.NotFoundResult($"SKU {request.Sku}");
        }
        if (await FindReservationAsync(db, request.OrderId, request.Sku, ct) is not null)
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.Conflict, "Already reserved",
                $"Order {request.OrderId} already holds a reservation of {request.Sku}.");
        }
        return Problems.Result(StatusCodes.Status409Conflict, Problems.OutOfStock, "Out of stock",
            $"{request.Quantity} × {request.Sku} requested, {stock.Available} available.",
            new Dictionary<string, object?> { ["available"] = stock.Available });
    }

    static async Task<IResult> GetReservation(Guid orderId, string sku, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var reservation = await FindReservationAsync(db, orderId, sku, ct);
        if (reservation is null)
        {
            return Problems.NotFoundResult($"The reservation of {sku} for order {orderId}");
        }
        ETags.Set(http, reservation.Version);
        return TypedResults.Ok(reservation);
    }

    /// <summary>Releases a held reservation; releasing a released one is a no-op, so a retry is safe.</summary>
    static Task<IResult> Release(Guid orderId, string sku, RequestTransaction db, HttpContext http, CancellationToken ct) =>
        Transition(orderId, sku, "released", "on_hand", db, http, ct);

    /// <summary>Turns a hold into a sale: on hand and reserved both drop. Idempotent like release.</summary>
    static Task<IResult> Commit(Guid orderId, string sku, RequestTransaction db, HttpContext http, CancellationToken ct) =>
        Transition(orderId, sku, "committed", "on_hand - r.quantity", db, http, ct);

    static async Task<IResult> Transition(Guid orderId, string sku, string target, string onHandAfter, RequestTransaction db, HttpContext http,
        CancellationToken ct)
    {
        await using var move = await db.CommandAsync($"""
            WITH r AS (
                UPDATE reservations SET state = @target, version = version + 1
                 WHERE order_id = @order_id AND sku = @sku AND state = 'held'
                   AND (@target <> 'committed' OR expires_at > now()) -- an expired hold can be released, not sold
                RETURNING order_id, sku, quantity, state, expires_at, version),
            s AS (
                UPDATE stock SET on_hand = {onHandAfter}, reserved = reserved - r.quantity, version = stock.version + 1, updated_at = now()
                  FROM r WHERE stock.sku = r.sku)
            SELECT order_id, sku, quantity, state, expires_at, version FROM r
            """, ct);
        move.Parameters.AddWithValue("order_id", orderId);
        move.Parameters.AddWithValue("sku", sku);
        move.Parameters.AddWithValue("target", target);
        var moved = await ReadReservationAsync(move, ct) ?? await FindReservationAsync(db, orderId, sku, ct);
        if (moved is null)
        {
            return Problems.NotFoundResult($"The reservation of {sku} for order {orderId}");
        }
        if (moved.State == "held")
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.InvalidTransition, "Hold expired",
                $"The hold of {sku} for order {orderId} expired at {moved.ExpiresAt:O}; reserve again.");
        }
        if (moved.State != target)
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.InvalidTransition, "Invalid transition",
                $"The reservation of {sku} for order {orderId} is {moved.State}; it cannot become {target}.");
        }
        ETags.Set(http, moved.Version);
        return TypedResults.Ok(moved);
    }

    /// <summary>
    /// Releases holds past their expiry (a saga that stalled or died), a bounded batch per call, so
    /// their stock becomes available again. Returns how many were released.
    /// </summary>
    public static async Task<int> ReleaseExpiredHoldsAsync(NpgsqlDataSource inventory, int batchSizeMax, CancellationToken ct)
    {
        await using var connection = await inventory.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var release = new NpgsqlCommand("""
            SELECT set_config('concord.actor', 'inventory:hold-sweeper', true);
            WITH expired AS (
                SELECT order_id, sku FROM reservations
                 WHERE state = 'held' AND expires_at <= now()
                 ORDER BY expires_at LIMIT @batch
                   FOR UPDATE SKIP LOCKED),
            released AS (
                UPDATE reservations r SET state = 'released', version = r.version + 1
                  FROM expired e WHERE r.order_id = e.order_id AND r.sku = e.sku
                RETURNING r.sku, r.quantity),
            per_sku AS (SELECT sku, sum(quantity)::int AS quantity, count(*) AS holds FROM released GROUP BY sku),
            stocked AS (
                UPDATE stock s SET reserved = s.reserved - p.quantity, version = s.version + 1, updated_at = now()
                  FROM per_sku p WHERE s.sku = p.sku)
            SELECT coalesce(sum(holds), 0)::int FROM per_sku
            """, connection, transaction);
        release.Parameters.AddWithValue("batch", batchSizeMax);
        await using var reader = await release.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        var released = reader.GetInt32(0);
        await reader.DisposeAsync();
        await transaction.CommitAsync(ct);
        return released;
    }

    const string StockColumns = "sku, on_hand, reserved, version";

    static async Task<StockView?> FindStockAsync(RequestTransaction db, string sku, CancellationToken ct)
    {
        await using var select = await db.CommandAsync($"SELECT {StockColumns} FROM stock WHERE sku = @sku", ct);
        select.Parameters.AddWithValue("sku", sku);
        return await ReadStockAsync(select, ct);
    }

    static async Task<StockView?> ReadStockAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        var onHand = reader.GetInt32(1);
        var reserved = reader.GetInt32(2);
        return new StockView(reader.GetString(0), onHand, reserved, onHand - reserved, reader.GetInt64(3));
    }

    static async Task<ReservationView?> FindReservationAsync(RequestTransaction db, Guid orderId, string sku, CancellationToken ct)
    {
        await using var select = await db.CommandAsync(
            "SELECT order_id, sku, quantity, state, expires_at, version FROM reservations WHERE order_id = @order_id AND sku = @sku", ct);
        select.Parameters.AddWithValue("order_id", orderId);
        select.Parameters.AddWithValue("sku", sku);
        return await ReadReservationAsync(select, ct);
    }

    static async Task<ReservationView?> ReadReservationAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new ReservationView(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt64(5))
            : null;
    }
}
