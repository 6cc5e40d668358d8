using Concord.Commerce.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace Concord.Commerce.Catalog;

public sealed record ProductRequest(string Name, long PriceMinor, string Currency);

public sealed record CreateProductRequest(string Sku, string Name, long PriceMinor, string Currency);

public sealed record ProductView(string Sku, string Name, long PriceMinor, string Currency, long Version);

/// <summary>Catalog over HTTP: products and prices; updates are conditional on the version read (If-Match).</summary>
public static class CatalogApi
{
    public const int PageSizeMax = 200;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/catalog").WithTags("Catalog")
            .WithMetadata(new ServiceDatabase(CommerceService.Catalog))
            .AddEndpointFilter<TransactionFilter>();

        group.MapPost("/products", Create).WithName("CreateProduct");
        group.MapGet("/products", List).WithName("ListProducts");
        group.MapGet("/products/{sku}", Get).WithName("GetProduct");
        group.MapPut("/products/{sku}", Update).WithName("UpdateProduct");
    }

    static Validation Check(string sku, string name, long priceMinor, string currency) =>
        new Validation().Sku("sku", sku).Length("name", name, 1, 200).Range("priceMinor", priceMinor, 0, 100_000_000).Currency("currency", currency);

    static async Task<IResult> Create(CreateProductRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var check = Check(request.Sku, request.Name, request.PriceMinor, request.Currency);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }
        await using var insert = await db.CommandAsync("""
            INSERT INTO products (sku, name, price_minor, currency) VALUES (@sku, @name, @price, @currency)
            ON CONFLICT (sku) DO NOTHING RETURNING sku, name, price_minor, currency, version
            """, ct);
        Bind(insert, request.Sku, request.Name, request.PriceMinor, request.Currency);
        var product = await ReadAsync(insert, ct);
        if (product is null)
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.Conflict, "Product exists", $"Product {request.Sku} already exists.");
        }
        ETags.Set(http, product.Version);
        return TypedResults.Created($"/catalog/products/{product.Sku}", product);
    }

    static async Task<IResult> List(RequestTransaction db, CancellationToken ct, string? after = null, int limit = 50)
    {
        if (limit is < 1 or > PageSizeMax)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["limit"] = [$"must be between 1 and {PageSizeMax}, not {limit}"] });
        }
        await using var select = await db.CommandAsync("""
            SELECT sku, name, price_minor, currency, version FROM products WHERE sku > @after ORDER BY sku LIMIT @limit
            """, ct);
        select.Parameters.AddWithValue("after", after ?? "");
        select.Parameters.AddWithValue("limit", limit);
        await using var reader = await select.ExecuteReaderAsync(ct);
        var products = new List<ProductView>();
        while (await reader.ReadAsync(ct))
        {
            products.Add(new ProductView(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4)));
        }
        return TypedResults.Ok(products);
    }

    static async Task<IResult> Get(string sku, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var product = await FindAsync(db, sku, ct);
        if (product is null)
        {
            return Problems.NotFoundResult($"Product {sku}");
        }
        ETags.Set(http, product.Version);
        return TypedResults.Ok(product);
    }

    static async Task<IResult> Update(string sku, ProductRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        if (!ETags.TryReadIfMatch(http, out var expected, out var precondition))
        {
            return precondition!;
        }
        var check = Check(sku, request.Name, request.PriceMinor, request.Currency);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }
        await using var update = await db.CommandAsync("""
            UPDATE products SET name = @name, price_minor = @price, currency = @currency, version = version + 1, updated_at = now()
             WHERE sku = @sku AND version = @version RETURNING sku, name, price_minor, currency, version
            """, ct);
        Bind(update, sku, request.Name, request.PriceMinor, request.Currency);
        update.Parameters.AddWithValue("version", expected);
        if (await ReadAsync(update, ct) is { } updated)
        {
            ETags.Set(http, updated.Version);
            return TypedResults.Ok(updated);
        }
        var current = await FindAsync(db, sku, ct);
        return current is null ? Problems.NotFoundResult($"Product {sku}") : ETags.VersionMismatch(http, expected, current.Version, current);
    }

    static void Bind(NpgsqlCommand command, string sku, string name, long priceMinor, string currency)
    {
        command.Parameters.AddWithValue("sku", sku);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("price", priceMinor);
        command.Parameters.AddWithValue("currency", currency);
    }

    static async Task<ProductView?> FindAsync(RequestTransaction db, string sku, CancellationToken ct)
    {
        await using var select = await db.CommandAsync("SELECT sku, name, price_minor, currency, version FROM products WHERE sku = @sku", ct);
        select.Parameters.AddWithValue("sku", sku);
        return await ReadAsync(select, ct);
    }

    static async Task<ProductView?> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new ProductView(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4))
            : null;
    }
}
