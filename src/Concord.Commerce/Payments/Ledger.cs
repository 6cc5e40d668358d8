using Npgsql;

namespace Concord.Commerce.Payments;

/// <summary>Writes one transfer and its postings in the caller's transaction; the schema checks balance, currency and floors at commit.</summary>
internal static class Ledger
{
    public const string BalanceFloorConstraint = "account_balance_above_floor";

    /// <summary>
    /// Inserts transfer <paramref name="id"/> and its postings. Postings go in account order, so
    /// concurrent transfers lock accounts in one order (no deadlock). A debit below an account's floor
    /// throws a <see cref="PostgresException"/> naming <see cref="BalanceFloorConstraint"/>.
    /// </summary>
    public static async Task PostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, string currency, string kind, string? reference,
        IReadOnlyList<PostingRequest> postings, CancellationToken cancellationToken)
    {
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO transfers (id, currency, kind, reference) VALUES (@id, @currency, @kind, @reference)", connection, transaction))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("currency", currency);
            insert.Parameters.AddWithValue("kind", kind);
            insert.Parameters.AddWithValue("reference", (object?)reference ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using var insertPostings = new NpgsqlCommand("""
            INSERT INTO postings (transfer_id, account_id, currency, side, amount_minor)
            SELECT @id, account, @currency, side, amount FROM unnest(@accounts, @sides, @amounts) AS p(account, side, amount)
             ORDER BY account, side
            """, connection, transaction);
        insertPostings.Parameters.AddWithValue("id", id);
        insertPostings.Parameters.AddWithValue("currency", currency);
        insertPostings.Parameters.AddWithValue("accounts", postings.Select(p => p.AccountId).ToArray());
        insertPostings.Parameters.AddWithValue("sides", postings.Select(p => p.Side == PostingSide.Debit ? "debit" : "credit").ToArray());
        insertPostings.Parameters.AddWithValue("amounts", postings.Select(p => p.AmountMinor).ToArray());
        await insertPostings.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
