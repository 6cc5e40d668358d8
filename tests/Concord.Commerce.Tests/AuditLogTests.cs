using System.Text.Json;
using Concord.Commerce;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests;

public sealed class AuditLogTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_mutation_writes_its_audit_row_in_the_same_transaction()
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Inventory);
        await using var connection = new NpgsqlConnection(db.AppConnectionString);
        await connection.OpenAsync(Cancel);

        long txid;
        await using (var transaction = await connection.BeginTransactionAsync(Cancel))
        {
            await Run(connection, transaction, "SET LOCAL concord.actor = 'user:alice'; SET LOCAL concord.hlc = '123456789'");
            await Run(connection, transaction, "INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 5)");
            await Run(connection, transaction, "UPDATE stock SET on_hand = 4, version = version + 1 WHERE sku = 'SKU-1'");
            txid = await Scalar<long>(connection, transaction, "SELECT pg_current_xact_id()::text::bigint");
            await transaction.CommitAsync(Cancel);
        }

        await using (var rolledBack = await connection.BeginTransactionAsync(Cancel))
        {
            await Run(connection, rolledBack, "UPDATE stock SET on_hand = 3 WHERE sku = 'SKU-1'");
            await rolledBack.RollbackAsync(Cancel);
        }

        await using var read = new NpgsqlCommand(
            "SELECT actor, hlc, table_name, row_key::text, operation, before::text, after::text, transaction_id::text::bigint FROM audit_log ORDER BY id", connection);
        await using var reader = await read.ExecuteReaderAsync(Cancel);
        var rows = new List<(string Actor, long Hlc, string Table, string Key, string Op, string? Before, string? After, long Txid)>();
        while (await reader.ReadAsync(Cancel))
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt64(7)));
        }

        Assert.Equal(2, rows.Count); // the rolled-back update left nothing
        Assert.All(rows, r =>
        {
            Assert.Equal("user:alice", r.Actor);
            Assert.Equal(123456789, r.Hlc);
            Assert.Equal("stock", r.Table);
            Assert.Equal("SKU-1", JsonDocument.Parse(r.Key).RootElement.GetProperty("sku").GetString());
            Assert.Equal(txid, r.Txid);
        });
        Assert.Equal("INSERT", rows[0].Op);
        Assert.Null(rows[0].Before);
        Assert.Equal("UPDATE", rows[1].Op);
        Assert.Equal(5, JsonDocument.Parse(rows[1].Before!).RootElement.GetProperty("on_hand").GetInt32());
        Assert.Equal(4, JsonDocument.Parse(rows[1].After!).RootElement.GetProperty("on_hand").GetInt32());
    }

    [Fact]
    public async Task Without_the_session_settings_the_actor_is_the_login_role_and_the_hlc_the_wall_clock()
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Catalog);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await db.ExecuteAsApp("INSERT INTO products (sku, name, price_minor, currency) VALUES ('SKU-1', 'Mug', 900, 'EUR')");
        Assert.Equal(CommerceDatabases.AppRole, await db.ScalarAsApp<string>("SELECT actor FROM audit_log"));
        var physicalMs = await db.ScalarAsApp<long>("SELECT hlc >> 16 FROM audit_log");
        Assert.InRange(physicalMs, before - 5_000, before + 60_000);
    }

    [Theory]
    [InlineData("UPDATE audit_log SET actor = 'nobody'")]
    [InlineData("DELETE FROM audit_log")]
    [InlineData("TRUNCATE audit_log")]
    [InlineData("INSERT INTO audit_log (hlc, actor, table_name, row_key, operation, after) VALUES (1, 'x', 'products', '{}', 'INSERT', '{}')")]
    public async Task The_application_role_cannot_rewrite_history(string attack)
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Catalog);
        await db.ExecuteAsApp("INSERT INTO products (sku, name, price_minor, currency) VALUES ('SKU-1', 'Mug', 900, 'EUR')");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsApp(attack));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Equal(1L, await db.ScalarAsApp<long>("SELECT count(*) FROM audit_log"));
    }

    [Theory]
    [InlineData("UPDATE audit_log SET actor = 'nobody'")]
    [InlineData("DELETE FROM audit_log")]
    [InlineData("TRUNCATE audit_log")]
    public async Task Even_the_schema_owner_cannot_rewrite_history(string attack)
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Catalog);
        await db.ExecuteAsApp("INSERT INTO products (sku, name, price_minor, currency) VALUES ('SKU-1', 'Mug', 900, 'EUR')");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsAdmin($"SET ROLE {CommerceDatabases.OwnerRole}", attack));
        Assert.Contains("audit_log is append-only", refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(1L, await db.ScalarAsApp<long>("SELECT count(*) FROM audit_log"));
    }

    static async Task Run(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    static async Task<T> Scalar<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}

public sealed class AuditLogStatementTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_multi_row_statement_writes_one_audit_row_per_row()
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Catalog);
        await db.ExecuteAsApp("INSERT INTO products (sku, name, price_minor, currency) SELECT 'SKU-' || i, 'P' || i, i, 'EUR' FROM generate_series(1, 5) i");
        await db.ExecuteAsApp("UPDATE products SET price_minor = price_minor * 10, version = version + 1");
        await db.ExecuteAsAdmin($"SET ROLE {CommerceDatabases.OwnerRole}", "DELETE FROM products WHERE price_minor > 30");

        Assert.Equal(5L, await db.ScalarAsApp<long>(
            "SELECT count(*) FROM audit_log WHERE operation = 'INSERT' AND before IS NULL AND row_key->>'sku' = after->>'sku'"));
        Assert.Equal(5L, await db.ScalarAsApp<long>(
            "SELECT count(*) FROM audit_log WHERE operation = 'UPDATE' AND (after->>'price_minor')::int = 10 * (before->>'price_minor')::int AND row_key->>'sku' = after->>'sku'"));
        Assert.Equal("SKU-4,SKU-5", await db.ScalarAsApp<string>(
            "SELECT string_agg(row_key->>'sku', ',' ORDER BY row_key->>'sku') FROM audit_log WHERE operation = 'DELETE' AND after IS NULL AND before->>'sku' = row_key->>'sku'"));
    }

    [Fact]
    public async Task Keys_of_audited_tables_are_immutable()
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, CommerceService.Catalog);
        await db.ExecuteAsApp("INSERT INTO products (sku, name, price_minor, currency) VALUES ('SKU-1', 'Mug', 900, 'EUR')");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsApp("UPDATE products SET sku = 'RENAMED' WHERE sku = 'SKU-1'"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Contains("the key of products (sku) is immutable", refused.MessageText, StringComparison.Ordinal);

        // Naming the key in SET without changing it is an ordinary update.
        await db.ExecuteAsApp("UPDATE products SET sku = sku, name = 'Big mug', version = version + 1 WHERE sku = 'SKU-1'");
        Assert.Equal(1L, await db.ScalarAsApp<long>("SELECT count(*) FROM audit_log WHERE operation = 'UPDATE' AND after->>'name' = 'Big mug'"));

        // Even with the guard dropped, a key change leaves both rows in the audit log, each with its one image.
        await db.ExecuteAsAdmin("ALTER TABLE products DISABLE TRIGGER products_key_is_immutable", "UPDATE products SET sku = 'RENAMED' WHERE sku = 'SKU-1'");
        Assert.Equal("RENAMED:after,SKU-1:before", await db.ScalarAsApp<string>("""
            SELECT string_agg(row_key->>'sku' || CASE WHEN before IS NULL THEN ':after' ELSE ':before' END, ',' ORDER BY row_key->>'sku')
              FROM audit_log WHERE operation = 'UPDATE' AND (before IS NULL OR after IS NULL)
            """));
    }
}
