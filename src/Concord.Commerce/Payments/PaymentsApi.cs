using Concord.Commerce.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace Concord.Commerce.Payments;

public sealed record OpenAccountRequest(string Id, string Currency, long FloorMinor = 0);

public sealed record AccountView(string Id, string Currency, long BalanceMinor, long FloorMinor, long Version);

public enum PostingSide
{
    Debit,
    Credit,
}

public sealed record PostingRequest(string AccountId, PostingSide Side, long AmountMinor);

public sealed record TransferRequest(string Currency, string Kind, IReadOnlyList<PostingRequest> Postings, string? Reference = null);

public sealed record TransferView(Guid Id, string Currency, string Kind, string? Reference, IReadOnlyList<PostingRequest> Postings);

/// <summary>
/// Payments over HTTP: a double-entry ledger. A transfer is a set of postings whose debits equal its
/// credits, all in the transfer's currency; a posting moves its account's balance, which may not go
/// below the account's floor. The schema enforces each rule; this API checks them first to answer
/// with a precise 4xx.
/// </summary>
public static class PaymentsApi
{
    public const long AmountMinorMax = 1_000_000_000_000;
    public const int PostingsMax = 20;
    static readonly string[] Kinds = ["deposit", "authorization", "capture", "void", "refund", "transfer"];

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/payments").WithTags("Payments")
            .WithMetadata(new ServiceDatabase(CommerceService.Payments))
            .AddEndpointFilter<TransactionFilter>();

        group.MapPost("/accounts", OpenAccount).WithName("OpenAccount");
        group.MapGet("/accounts/{id}", GetAccount).WithName("GetAccount");
        group.MapPost("/transfers", Transfer).WithName("Transfer").WithMetadata(new RequiresIdempotencyKey());
        group.MapGet("/transfers/{id:guid}", GetTransfer).WithName("GetTransfer");
    }

    static async Task<IResult> OpenAccount(OpenAccountRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var check = new Validation().AccountId("id", request.Id).Currency("currency", request.Currency)
            .Range("floorMinor", request.FloorMinor, -AmountMinorMax, 0);
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }
        await using var insert = await db.CommandAsync("""
            INSERT INTO accounts (id, currency, floor_minor) VALUES (@id, @currency, @floor)
            ON CONFLICT (id) DO NOTHING
            RETURNING id, currency, balance_minor, floor_minor, version
            """, ct);
        insert.Parameters.AddWithValue("id", request.Id);
        insert.Parameters.AddWithValue("currency", request.Currency);
        insert.Parameters.AddWithValue("floor", request.FloorMinor);
        var account = await ReadAccountAsync(insert, ct);
        if (account is null)
        {
            return Problems.Result(StatusCodes.Status409Conflict, Problems.Conflict, "Account exists", $"Account {request.Id} already exists.");
        }
        ETags.Set(http, account.Version);
        return TypedResults.Created($"/payments/accounts/{account.Id}", account);
    }

    static async Task<IResult> GetAccount(string id, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        var account = await FindAccountAsync(db, id, ct);
        if (account is null)
        {
            return Problems.NotFoundResult($"Account {id}");
        }
        ETags.Set(http, account.Version);
        return TypedResults.Ok(account);
    }

    static async Task<IResult> Transfer(TransferRequest request, RequestTransaction db, HttpContext http, CancellationToken ct)
    {
        if (request.Postings.Any(p => p is null))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["postings"] = ["must not contain null"] });
        }
        var check = new Validation()
            .Currency("currency", request.Currency)
            .Check("kind", Kinds.Contains(request.Kind), $"must be one of {string.Join(", ", Kinds)}")
            .Range("postings", request.Postings.Count, 2, PostingsMax)
            .Check("reference", request.Reference is null || request.Reference.Length <= 200, "must be at most 200 characters");
        for (var i = 0; i < request.Postings.Count; i++)
        {
            check.AccountId($"postings[{i}].accountId", request.Postings[i].AccountId)
                .Range($"postings[{i}].amountMinor", request.Postings[i].AmountMinor, 1, AmountMinorMax);
        }
        var debits = request.Postings.Where(p => p.Side == PostingSide.Debit).Sum(p => (decimal)p.AmountMinor);
        var credits = request.Postings.Where(p => p.Side == PostingSide.Credit).Sum(p => (decimal)p.AmountMinor);
        check.Check("postings", debits == credits, $"debits ({debits}) must equal credits ({credits})")
            .Check("postings", request.Postings.Select(p => (p.AccountId, p.Side)).Distinct().Count() == request.Postings.Count,
                "an account appears at most once per side");
        if (check.Failed)
        {
            return Problems.Validation(check.Errors);
        }

        var accounts = new Dictionary<string, AccountView>();
        foreach (var accountId in request.Postings.Select(p => p.AccountId).Distinct())
        {
            if (await FindAccountAsync(db, accountId, ct) is not { } account)
            {
                return Problems.NotFoundResult($"Account {accountId}");
            }
            if (account.Currency != request.Currency)
            {
                return Problems.Result(StatusCodes.Status422UnprocessableEntity, Problems.ValidationFailed, "Currency mismatch",
                    $"Account {accountId} holds {account.Currency}; this transfer is in {request.Currency}.");
            }
            accounts[accountId] = account;
        }

        var id = Guid.CreateVersion7();
        try
        {
            await db.EnsureStartedAsync(ct);
            await Ledger.PostAsync(db.Connection, db.Transaction, id, request.Currency, request.Kind, request.Reference, request.Postings, ct);
        }
        catch (PostgresException e) when (e.ConstraintName == Ledger.BalanceFloorConstraint)
        {
            // The trigger applying a debit found the balance would drop below the floor; the filter rolls back.
        // (Postings go in account order, so concurrent transfers lock accounts in one order: no deadlock.)
            return Problems.Result(StatusCodes.Status409Conflict, Problems.InsufficientFunds, "Insufficient funds",
                "A debit would take an account below its floor: " + e.MessageText + ".");
        }
        var view = new TransferView(id, request.Currency, request.Kind, request.Reference, request.Postings);
        return TypedResults.Created($"/payments/transfers/{id}", view);
    }

    static async Task<IResult> GetTransfer(Guid id, RequestTransaction db, CancellationToken ct)
    {
        await using var select = await db.CommandAsync("""
            SELECT t.currency, t.kind, t.reference, p.account_id, p.side, p.amount_minor
              FROM transfers t JOIN postings p ON p.transfer_id = t.id WHERE t.id = @id ORDER BY p.side DESC, p.account_id
            """, ct);
        select.Parameters.AddWithValue("id", id);
        await using var reader = await select.ExecuteReaderAsync(ct);
        TransferView? transfer = null;
        var postings = new List<PostingRequest>();
        while (await reader.ReadAsync(ct))
        {
            transfer ??= new TransferView(id, reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), postings);
            postings.Add(new PostingRequest(reader.GetString(3), reader.GetString(4) == "debit" ? PostingSide.Debit : PostingSide.Credit, reader.GetInt64(5)));
        }
        return transfer is null ? Problems.NotFoundResult($"Transfer {id}") : TypedResults.Ok(transfer);
    }

    internal static async Task<AccountView?> FindAccountAsync(RequestTransaction db, string id, CancellationToken ct)
    {
        await using var select = await db.CommandAsync("SELECT id, currency, balance_minor, floor_minor, version FROM accounts WHERE id = @id", ct);
        select.Parameters.AddWithValue("id", id);
        return await ReadAccountAsync(select, ct);
    }

    static async Task<AccountView?> ReadAccountAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new AccountView(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4))
            : null;
    }
}
