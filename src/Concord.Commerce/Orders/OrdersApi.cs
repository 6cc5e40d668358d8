using Concord.Commerce.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace Concord.Commerce.Orders;

public sealed record CreateCustomerRequest(string Email, string Name);

public sealed record CustomerView(Guid Id, string Email, string Name, long Version);

public sealed record OrderLineRequest(string Sku, int Quantity, long UnitPriceMinor);

/// <summary>
/// Unit prices come with the order, as quoted to the customer from the catalog; Orders never reads
/// Catalog's tables. (The order saga checks the quote against the catalog.)
/// </summary>
public sealed record PlaceOrderRequest(Guid CustomerId, string Currency, IReadOnlyList<OrderLineRequest> Lines);

public sealed record OrderLineView(int LineNo, string Sku, int Quantity, long UnitPriceMinor);

public sealed record OrderView(Guid Id, Guid CustomerId, string Status, string Currency, long TotalMinor, IReadOnlyList<OrderLineView> Lines, long Version);

public sealed record ChangeStatusRequest(string Status);

/// <summary>
/// Orders over HTTP. The total is computed here and stored, and the database checks at commit that
/// it equals the sum of the lines; the status moves only along order_status_transitions.
/// </summary>
public static class OrdersApi
{
    public const int LinesMax = 100;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/orders").WithTags("Orders")
            .WithMetadata(new ServiceDatabase(CommerceService.Orders))
            .AddEndpointFilter<TransactionFilter>();

        group.MapPost("/customers", CreateCustomer).WithName("CreateCustomer");
        group.MapGet("/customers/{id:guid}", GetCustomer).WithName("GetCustomer");
        group.MapPost("/", PlaceOrder).WithName("PlaceOrder").WithMetadata(new RequiresIdempotencyKey());
        group.MapGet("/{id:guid}", GetOrder).WithName("GetOrder");
        group.MapPost("/{id:guid}/status", ChangeStatus).WithName("ChangeOrderStatus");
    }

    static async Task<IResult> CreateCustomer(CreateCustomerRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var check = new Validation()
            .Length("email", request.Email, 3, 254)
            .Check("email", request.Email.Count(c => c == '@') == 1 && !request.Email.Any(char.IsWhiteSpace), "must be one address such as ana@example.com")
            .Length("name", request.Name, 1, 200);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }
        await using var insert = await db.CommandAsync("""
            INSERT INTO customers (id, email, name) VALUES (gen_random_uuid(), @email, @name)
            ON CONFLICT ((lower(email))) DO NOTHING
            RETURNING id, email, name, version
            """, ct);
        insert.Parameters.AddWithValue("email", request.Email);
        insert.Parameters.AddWithValue("name", request.Name);
        var customer = await ReadCustomerAsync(insert, ct);
        if (customer is null)
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.Conflict, "Email taken",
                "A customer with this email already exists (emails are compared without regard to case).");
        }
        ETags.Set(http, customer.Version);
        return TypedResults.Created($"/orders/customers/{customer.Id}", customer);
    }

    static async Task<IResult> GetCustomer(Guid id, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        await using var select = await db.CommandAsync("SELECT id, email, name, version FROM customers WHERE id = @id", ct);
        select.Parameters.AddWithValue("id", id);
        var customer = await ReadCustomerAsync(select, ct);
        if (customer is null)
        {
            return Problems.NotFoundResult($"Customer {id}");
        }
        ETags.Set(http, customer.Version);
        return TypedResults.Ok(customer);
    }

    static async Task<IResult> PlaceOrder(PlaceOrderRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        if (await CheckNewOrderAsync(db, request, ct) is { } problem)
        {
            return problem;
        }

        var id = Guid.CreateVersion7();
        await db.EnsureStartedAsync(ct);
        await InsertOrderAsync(db.Connection, db.Transaction, id, request.CustomerId, request.Currency,
            [.. request.Lines.Select(l => (l.Sku, l.Quantity, l.UnitPriceMinor))], ct);
        var order = (await FindOrderAsync(db, id, ct))!;
        ETags.Set(http, order.Version);
        return TypedResults.Created($"/orders/{id}", order);
    }

    /// <summary>The problem with a new order (bad fields, unknown customer), or null; shared by POST /orders and POST /orders/checkout.</summary>
    internal static async Task<IResult?> CheckNewOrderAsync(RequestTransaction db, PlaceOrderRequest request, CancellationToken ct)
    {
        if (request.Lines.Any(l => l is null))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["lines"] = ["must not contain null"] });
        }
        var check = new Validation()
            .NotEmpty("customerId", request.CustomerId)
            .Currency("currency", request.Currency)
            .Range("lines", request.Lines.Count, 1, LinesMax)
            .Check("lines", request.Lines.Select(l => l.Sku).Distinct().Count() == request.Lines.Count, "each SKU may appear on one line only");
        for (var i = 0; i < request.Lines.Count; i++)
        {
            var line = request.Lines[i];
            check.Sku($"lines[{i}].sku", line.Sku)
                .Range($"lines[{i}].quantity", line.Quantity, 1, 1000)
                .Range($"lines[{i}].unitPriceMinor", line.UnitPriceMinor, 0, 100_000_000);
        }
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }

        await using (var customer = await db.CommandAsync("SELECT 1 FROM customers WHERE id = @id", ct))
        {
            customer.Parameters.AddWithValue("id", request.CustomerId);
            if (await customer.ExecuteScalarAsync(ct) is null)
            {
                return Problems.NotFoundResult($"Customer {request.CustomerId}");
            }
        }
        return null;
    }

    /// <summary>Inserts a pending order and its lines; the total is computed here and checked by the schema at commit.</summary>
    internal static async Task InsertOrderAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid customerId, string currency,
        IReadOnlyList<(string Sku, int Quantity, long UnitPriceMinor)> lines, CancellationToken ct)
    {
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO orders (id, customer_id, currency, total_minor) VALUES (@id, @customer, @currency, @total)", connection, transaction))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("customer", customerId);
            insert.Parameters.AddWithValue("currency", currency);
            insert.Parameters.AddWithValue("total", lines.Sum(l => l.Quantity * l.UnitPriceMinor));
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using var insertLines = new NpgsqlCommand("""
            INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_minor)
            SELECT @id, n, sku, quantity, price FROM unnest(@skus, @quantities, @prices) WITH ORDINALITY AS l(sku, quantity, price, n)
            """, connection, transaction);
        insertLines.Parameters.AddWithValue("id", id);
        insertLines.Parameters.AddWithValue("skus", lines.Select(l => l.Sku).ToArray());
        insertLines.Parameters.AddWithValue("quantities", lines.Select(l => l.Quantity).ToArray());
        insertLines.Parameters.AddWithValue("prices", lines.Select(l => l.UnitPriceMinor).ToArray());
        await insertLines.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    static async Task<IResult> GetOrder(Guid id, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var order = await FindOrderAsync(db, id, ct);
        if (order is null)
        {
            return Problems.NotFoundResult($"Order {id}");
        }
        ETags.Set(http, order.Version);
        return TypedResults.Ok(order);
    }

    static async Task<IResult> ChangeStatus(Guid id, ChangeStatusRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        if (!ETags.TryReadIfMatch(http, out var expected, out var precondition))
        {
            return precondition!;
        }
        var current = await FindOrderAsync(db, id, ct);
        if (current is null)
        {
            return Problems.NotFoundResult($"Order {id}");
        }
        if (current.Version != expected)
        {
            return ETags.VersionMismatch(http, expected, current.Version, current);
        }
        await using (var allowed = await db.CommandAsync(
            "SELECT 1 FROM order_status_transitions WHERE from_status = @from AND to_status = @to", ct))
        {
            allowed.Parameters.AddWithValue("from", current.Status);
            allowed.Parameters.AddWithValue("to", request.Status);
            if (await allowed.ExecuteScalarAsync(ct) is null)
            {
                return Problems.Result(StatusCodes.Status409Conflict, Problems.InvalidTransition, "Invalid transition",
                    $"Order {id} is {current.Status}; it cannot become {request.Status}.");
            }
        }
        await using (var update = await db.CommandAsync("""
            UPDATE orders SET status = @status, version = version + 1, updated_at = now() WHERE id = @id AND version = @version
            """, ct))
        {
            update.Parameters.AddWithValue("id", id);
            update.Parameters.AddWithValue("status", request.Status);
            update.Parameters.AddWithValue("version", expected);
            if (await update.ExecuteNonQueryAsync(ct) == 0)
            {
                var latest = (await FindOrderAsync(db, id, ct))!;
                return ETags.VersionMismatch(http, expected, latest.Version, latest);
            }
        }
        var changed = (await FindOrderAsync(db, id, ct))!;
        ETags.Set(http, changed.Version);
        return TypedResults.Ok(changed);
    }

    static async Task<OrderView?> FindOrderAsync(RequestTransaction db, Guid id, CancellationToken ct)
    {
        await using var select = await db.CommandAsync("""
            SELECT o.customer_id, o.status, o.currency, o.total_minor, o.version, l.line_no, l.sku, l.quantity, l.unit_price_minor
              FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
             WHERE o.id = @id ORDER BY l.line_no
            """, ct);
        select.Parameters.AddWithValue("id", id);
        await using var reader = await select.ExecuteReaderAsync(ct);
        OrderView? order = null;
        var lines = new List<OrderLineView>();
        while (await reader.ReadAsync(ct))
        {
            order ??= new OrderView(id, reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), lines, reader.GetInt64(4));
            if (!reader.IsDBNull(5))
            {
                lines.Add(new OrderLineView(reader.GetInt16(5), reader.GetString(6), reader.GetInt32(7), reader.GetInt64(8)));
            }
        }
        return order;
    }

    static async Task<CustomerView?> ReadCustomerAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new CustomerView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)) : null;
    }
}
