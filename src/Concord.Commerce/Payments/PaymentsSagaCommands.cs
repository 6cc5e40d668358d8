using Concord.Commerce.Sagas.Commands;
using Concord.Messaging.Sagas.Orders;
using Npgsql;

namespace Concord.Commerce.Payments;

/// <summary>
/// Payments' part of the order saga, as ledger transfers (reference = the command's idempotency key):
///
/// | command | transfer | debit → credit |
/// |---|---|---|
/// | AuthorizePayment | authorization | customer → <c>authorizations:{cur}</c> |
/// | CapturePayment | capture | <c>authorizations:{cur}</c> → <c>revenue:{cur}</c> |
/// | VoidAuthorization | void | <c>authorizations:{cur}</c> → customer (none if never authorized or captured) |
/// | RefundPayment | refund | <c>revenue:{cur}</c> → customer (none if never captured) |
///
/// Whether an authorization or capture happened is read from this database's answers to those
/// commands (saga_command_results), which commit with the transfers.
/// </summary>
public sealed class PaymentsSagaCommands : ISagaCommandExecutor
{
    public static string AuthorizationsAccount(string currency) => "authorizations:" + currency.ToLowerInvariant();

    public static string RevenueAccount(string currency) => "revenue:" + currency.ToLowerInvariant();

    public async Task<SagaCommandResult> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderCommand command, CancellationToken cancellationToken)
    {
        var ct = cancellationToken;
        switch (command)
        {
            case AuthorizePayment authorize:
                if (await CustomerAccountProblemAsync(connection, transaction, authorize.AccountId, authorize.Currency, ct).ConfigureAwait(false) is { } problem)
                {
                    return SagaCommandResult.Refused(problem);
                }
                return await MoveAsync(connection, transaction, authorize, "authorization", authorize.AccountId, AuthorizationsAccount(authorize.Currency),
                    authorize.Currency, authorize.AmountMinor, ct).ConfigureAwait(false);
            case CapturePayment capture:
                if (!await SucceededAsync(connection, transaction, capture, OrderSaga.AuthorizePaymentStep, ct).ConfigureAwait(false))
                {
                    return SagaCommandResult.Refused("no authorization to capture");
                }
                return await MoveAsync(connection, transaction, capture, "capture", AuthorizationsAccount(capture.Currency), RevenueAccount(capture.Currency),
                    capture.Currency, capture.AmountMinor, ct).ConfigureAwait(false);
            case VoidAuthorization @void:
                // Nothing authorized: nothing to undo. Captured: the capture consumed it (a no-op; a refund returns the money).
                if (!await SucceededAsync(connection, transaction, @void, OrderSaga.AuthorizePaymentStep, ct).ConfigureAwait(false) ||
                    await SucceededAsync(connection, transaction, @void, OrderSaga.CapturePaymentStep, ct).ConfigureAwait(false))
                {
                    return SagaCommandResult.Ok;
                }
                return await MoveAsync(connection, transaction, @void, "void", AuthorizationsAccount(@void.Currency), @void.AccountId,
                    @void.Currency, @void.AmountMinor, ct).ConfigureAwait(false);
            case RefundPayment refund:
                if (!await SucceededAsync(connection, transaction, refund, OrderSaga.CapturePaymentStep, ct).ConfigureAwait(false))
                {
                    return SagaCommandResult.Ok;
                }
                return await MoveAsync(connection, transaction, refund, "refund", RevenueAccount(refund.Currency), refund.AccountId,
                    refund.Currency, refund.AmountMinor, ct).ConfigureAwait(false);
            default:
                throw new InvalidOperationException($"Payments does not execute {command.GetType().Name}.");
        }
    }

    /// <summary>
    /// Every account the batch's transfers may touch, as advisory locks taken in one global order
    /// before any row: two saga batches then never wait on each other's account rows in a cycle
    /// (<see cref="Ledger.PostAsync"/> orders one transfer's accounts, not a batch's). Advisory,
    /// because the application role may not lock ledger rows itself (no UPDATE on accounts).
    /// </summary>
    public async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderCommand> commands, CancellationToken cancellationToken)
    {
        var accounts = commands.SelectMany(command => command switch
        {
            AuthorizePayment a => new[] { a.AccountId, AuthorizationsAccount(a.Currency) },
            CapturePayment c => [AuthorizationsAccount(c.Currency), RevenueAccount(c.Currency)],
            VoidAuthorization v => [v.AccountId, AuthorizationsAccount(v.Currency)],
            RefundPayment r => [r.AccountId, RevenueAccount(r.Currency)],
            _ => [],
        }).Select(id => "account:" + id).ToArray();
        if (commands.Count > 1)
        {
            await SagaCommandConsumer.LockInOrderAsync(connection, transaction, accounts, cancellationToken).ConfigureAwait(false);
        }
    }

    static Task<bool> SucceededAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderCommand command, string step, CancellationToken ct)
    {
        var sagaId = command.IdempotencyKey[..command.IdempotencyKey.IndexOf(':', StringComparison.Ordinal)];
        return SagaCommandConsumer.SucceededAsync(connection, transaction, $"{sagaId}:{step}:do", ct);
    }

    static async Task<string?> CustomerAccountProblemAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string accountId, string currency,
        CancellationToken ct)
    {
        await using var select = new NpgsqlCommand("SELECT currency FROM accounts WHERE id = @id", connection, transaction);
        select.Parameters.AddWithValue("id", accountId);
        return await select.ExecuteScalarAsync(ct).ConfigureAwait(false) switch
        {
            null => $"payment declined: account {accountId} does not exist",
            string held when held != currency => $"payment declined: account {accountId} holds {held}, the order is in {currency}",
            _ => null,
        };
    }

    static async Task<SagaCommandResult> MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderCommand command, string kind,
        string from, string to, string currency, long amountMinor, CancellationToken ct)
    {
        if (amountMinor == 0)
        {
            return SagaCommandResult.Ok; // a free order moves no money (a transfer's postings are positive)
        }
        // The saga's own accounts open on first use; they never go below zero.
        await using (var open = new NpgsqlCommand("""
            INSERT INTO accounts (id, currency) SELECT a, @currency FROM unnest(@ids) AS a
             WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE id = a)
            ON CONFLICT (id) DO NOTHING
            """, connection, transaction))
        {
            open.Parameters.AddWithValue("currency", currency);
            open.Parameters.AddWithValue("ids", new[] { AuthorizationsAccount(currency), RevenueAccount(currency) });
            await open.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        try
        {
            await Ledger.PostAsync(connection, transaction, Guid.CreateVersion7(), currency, kind, command.IdempotencyKey,
                [new PostingRequest(from, PostingSide.Debit, amountMinor), new PostingRequest(to, PostingSide.Credit, amountMinor)], ct).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.ConstraintName == Ledger.BalanceFloorConstraint)
        {
            return SagaCommandResult.Refused("payment declined: insufficient funds (" + e.MessageText + ")");
        }
        return SagaCommandResult.Ok;
    }
}
