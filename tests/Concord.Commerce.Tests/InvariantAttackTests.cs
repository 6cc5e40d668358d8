using Concord.Commerce;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests;

/// <summary>
/// Each invariant of docs/invariants.md, attacked directly in SQL as the application role: the
/// database refuses it, with the named constraint. Each refused attack sits next to an allowed
/// change of the same shape, so a test cannot pass because the setup itself was broken.
/// </summary>
public sealed class InvariantAttackTests(PostgresFixture fixture)
{
    const string Order = "'6f1c1f52-0000-4000-8000-000000000001'";
    const string Customer = "'6f1c1f52-0000-4000-8000-0000000000c1'";
    const string Transfer = "'6f1c1f52-0000-4000-8000-0000000000f1'";

    public static TheoryData<string, CommerceService, string[], string[], string, string> Attacks => new()
    {
        // name, service, allowed setup, attack, SQLSTATE, constraint
        { "on_hand never negative", CommerceService.Inventory,
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 1)", "UPDATE stock SET on_hand = 0"],
            ["UPDATE stock SET on_hand = -1"], PostgresErrorCodes.CheckViolation, "stock_on_hand_non_negative" },
        { "reserved never negative", CommerceService.Inventory,
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 1)"],
            ["UPDATE stock SET reserved = -1"], PostgresErrorCodes.CheckViolation, "stock_reserved_non_negative" },
        { "reserved within on_hand", CommerceService.Inventory,
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 1)",
             $"INSERT INTO reservations (order_id, sku, quantity, expires_at) VALUES ({Order}, 'SKU-1', 1, now() + interval '5 min')",
             "UPDATE stock SET reserved = 1"],
            [$"UPDATE reservations SET quantity = 2", "UPDATE stock SET reserved = 2"], PostgresErrorCodes.CheckViolation, "stock_reserved_within_on_hand" },
        { "unique SKU", CommerceService.Inventory,
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 1)"],
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 5)"], PostgresErrorCodes.UniqueViolation, "stock_pkey" },
        { "one reservation per order and SKU", CommerceService.Inventory,
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 5)",
             $"INSERT INTO reservations (order_id, sku, quantity, expires_at) VALUES ({Order}, 'SKU-1', 1, now() + interval '5 min')",
             "UPDATE stock SET reserved = 1"],
            [$"INSERT INTO reservations (order_id, sku, quantity, expires_at) VALUES ({Order}, 'SKU-1', 1, now() + interval '5 min')"],
            PostgresErrorCodes.UniqueViolation, "reservation_one_per_order_and_sku" },
        { "reserved equals held reservations at commit", CommerceService.Inventory,
            ["INSERT INTO stock (sku, on_hand) VALUES ('SKU-1', 5)"],
            [$"INSERT INTO reservations (order_id, sku, quantity, expires_at) VALUES ({Order}, 'SKU-1', 2, now() + interval '5 min')"],
            PostgresErrorCodes.CheckViolation, "stock_reserved_matches_holds" },

        { "order total equals its lines at commit", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'a@example.com', 'A')",
             $"INSERT INTO orders (id, customer_id, currency, total_minor) VALUES ({Order}, {Customer}, 'EUR', 600)",
             $"INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_minor) VALUES ({Order}, 1, 'SKU-1', 2, 300)"],
            [$"UPDATE order_lines SET quantity = 3"], PostgresErrorCodes.CheckViolation, "order_total_matches_lines" },
        { "a new order's total must match at commit", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'a@example.com', 'A')"],
            [$"INSERT INTO orders (id, customer_id, currency, total_minor) VALUES ({Order}, {Customer}, 'EUR', 100)",
             $"INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_minor) VALUES ({Order}, 1, 'SKU-1', 2, 30)"],
            PostgresErrorCodes.CheckViolation, "order_total_matches_lines" },
        { "status moves only along the state machine", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'a@example.com', 'A')",
             $"INSERT INTO orders (id, customer_id, currency, total_minor) VALUES ({Order}, {Customer}, 'EUR', 0)",
             "UPDATE orders SET status = 'stock_reserved'"],
            ["UPDATE orders SET status = 'confirmed'"], PostgresErrorCodes.CheckViolation, "order_status_transition" },
        { "a new order starts pending", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'a@example.com', 'A')"],
            [$"INSERT INTO orders (id, customer_id, status, currency, total_minor) VALUES ({Order}, {Customer}, 'paid', 'EUR', 0)"],
            PostgresErrorCodes.CheckViolation, "order_status_transition" },
        { "lines reference existing orders", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'a@example.com', 'A')"],
            [$"INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_minor) VALUES ({Order}, 1, 'SKU-1', 1, 1)"],
            PostgresErrorCodes.ForeignKeyViolation, "order_lines_order_id_fkey" },
        { "customer id unique", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'a@example.com', 'A')"],
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'b@example.com', 'B')"], PostgresErrorCodes.UniqueViolation, "customers_pkey" },
        { "customer email unique without regard to case", CommerceService.Orders,
            [$"INSERT INTO customers (id, email, name) VALUES ({Customer}, 'Alice@Example.com', 'A')"],
            ["INSERT INTO customers (id, email, name) VALUES (gen_random_uuid(), 'alice@example.COM', 'B')"],
            PostgresErrorCodes.UniqueViolation, "customer_email_unique_ci" },

        { "debits equal credits at commit", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0)"],
            [$"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 100), ({Transfer}, 'alice', 'EUR', 'credit', 90)"],
            PostgresErrorCodes.CheckViolation, "transfer_balanced" },
        { "a transfer has postings", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0)"],
            [$"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')"],
            PostgresErrorCodes.CheckViolation, "transfer_balanced" },
        { "balance never below its floor", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0), ('shop', 'EUR', 0)",
             $"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 100), ({Transfer}, 'alice', 'EUR', 'credit', 100)"],
            ["INSERT INTO transfers (id, currency, kind) VALUES ('6f1c1f52-0000-4000-8000-0000000000f2', 'EUR', 'transfer')",
             "INSERT INTO postings VALUES ('6f1c1f52-0000-4000-8000-0000000000f2', 'alice', 'EUR', 'debit', 101), ('6f1c1f52-0000-4000-8000-0000000000f2', 'shop', 'EUR', 'credit', 101)"],
            PostgresErrorCodes.CheckViolation, "account_balance_above_floor" },
        { "amounts are positive", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0)"],
            [$"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 0), ({Transfer}, 'alice', 'EUR', 'credit', 0)"],
            PostgresErrorCodes.CheckViolation, "posting_amount_positive" },
        { "one currency per transfer", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice-usd', 'USD', 0)"],
            [$"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 5), ({Transfer}, 'alice-usd', 'EUR', 'credit', 5)"],
            PostgresErrorCodes.ForeignKeyViolation, "posting_account_currency" },
        { "transfer id unique", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0)",
             $"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 5), ({Transfer}, 'alice', 'EUR', 'credit', 5)"],
            [$"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')"], PostgresErrorCodes.UniqueViolation, "transfers_pkey" },
        { "balances change only through postings", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('alice', 'EUR', 0)"],
            ["UPDATE accounts SET balance_minor = 1000000 WHERE id = 'alice'"], PostgresErrorCodes.InsufficientPrivilege, "" },
        { "postings are never rewritten", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0)",
             $"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 5), ({Transfer}, 'alice', 'EUR', 'credit', 5)"],
            ["DELETE FROM postings"], PostgresErrorCodes.InsufficientPrivilege, "" },
        { "a committed transfer takes no new postings", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000), ('alice', 'EUR', 0)",
             $"INSERT INTO transfers (id, currency, kind) VALUES ({Transfer}, 'EUR', 'deposit')",
             $"INSERT INTO postings VALUES ({Transfer}, 'world', 'EUR', 'debit', 5), ({Transfer}, 'alice', 'EUR', 'credit', 5)"],
            [$"INSERT INTO postings VALUES ({Transfer}, 'alice', 'EUR', 'debit', 5), ({Transfer}, 'world', 'EUR', 'credit', 5)"],
            PostgresErrorCodes.CheckViolation, "posting_joins_new_transfer" },
        { "audit rows are written only by the audit triggers", CommerceService.Payments,
            ["INSERT INTO accounts (id, currency, floor_minor) VALUES ('alice', 'EUR', 0)"],
            ["INSERT INTO audit_log (hlc, actor, table_name, row_key, operation, after) VALUES (1, 'forger', 'accounts', '{}', 'INSERT', '{}')"],
            PostgresErrorCodes.InsufficientPrivilege, "" },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task The_database_refuses_the_attack(string invariant, CommerceService service, string[] allowed, string[] attack,
        string sqlState, string constraint)
    {
        var db = await CommerceDatabase.ProvisionAsync(fixture, service);
        await db.ExecuteAsApp(allowed); // the same shape of change, within the rules, commits

        var refused = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsApp(attack));
        Assert.True(refused.SqlState == sqlState, $"{invariant}: expected SQLSTATE {sqlState}, got {refused.SqlState}: {refused.MessageText}");
        if (constraint.Length > 0)
        {
            Assert.Equal(constraint, refused.ConstraintName);
        }
    }
}
