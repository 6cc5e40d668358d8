-- Payments: a double-entry ledger. Money moves only as a transfer of balanced postings; balances
-- change only through postings; nothing posted is ever updated or deleted (a refund is a new transfer).
CREATE TABLE accounts (
    id            text        PRIMARY KEY CONSTRAINT account_id_format CHECK (id ~ '^[a-z0-9][a-z0-9:._-]{0,63}$'),
    currency      text        NOT NULL CONSTRAINT account_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    -- The lowest balance allowed: 0 for a customer's wallet; below 0 for an account that may run a
    -- debt, such as the outside world's account that deposits come from.
    floor_minor   bigint      NOT NULL DEFAULT 0,
    balance_minor bigint      NOT NULL DEFAULT 0,
    version       bigint      NOT NULL DEFAULT 1 CONSTRAINT account_version_positive CHECK (version > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_balance_above_floor CHECK (balance_minor >= floor_minor),
    CONSTRAINT account_id_currency UNIQUE (id, currency)
);

CREATE TABLE transfers (
    id         uuid        PRIMARY KEY,
    currency   text        NOT NULL CONSTRAINT transfer_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    kind       text        NOT NULL CONSTRAINT transfer_kind CHECK (kind IN ('deposit', 'authorization', 'capture', 'void', 'refund', 'transfer')),
    reference  text        CONSTRAINT transfer_reference_length CHECK (length(reference) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The transaction that created the transfer: postings may join it only there (see below).
    created_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT transfer_id_currency UNIQUE (id, currency)
);

-- A posting carries its transfer's currency and must match both the transfer's and the account's:
-- two composite foreign keys make "one currency per transfer" a declarative rule.
CREATE TABLE postings (
    transfer_id  uuid   NOT NULL,
    account_id   text   NOT NULL,
    currency     text   NOT NULL,
    side         text   NOT NULL CONSTRAINT posting_side CHECK (side IN ('debit', 'credit')),
    amount_minor bigint NOT NULL CONSTRAINT posting_amount_positive CHECK (amount_minor > 0 AND amount_minor <= 1000000000000),
    PRIMARY KEY (transfer_id, account_id, side),
    CONSTRAINT posting_transfer_currency FOREIGN KEY (transfer_id, currency) REFERENCES transfers (id, currency),
    CONSTRAINT posting_account_currency FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
CREATE INDEX postings_by_account ON postings (account_id);

-- A transfer is written once: its postings go in with it, in the transaction that creates it. A
-- later posting on a committed transfer, even a balanced pair, would rewrite what was posted.
CREATE FUNCTION check_posting_joins_new_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM transfers WHERE id = NEW.transfer_id AND created_by_xact = pg_current_xact_id()) THEN
        RAISE EXCEPTION 'transfer % is already posted; money moves only as a new transfer', NEW.transfer_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'posting_joins_new_transfer', TABLE = 'postings';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER posting_joins_new_transfer BEFORE INSERT ON postings FOR EACH ROW EXECUTE FUNCTION check_posting_joins_new_transfer();

-- A posting moves the balance: a credit adds, a debit subtracts. The CHECK on accounts refuses a
-- balance below its floor. SECURITY DEFINER: the application role cannot UPDATE balances itself.
CREATE FUNCTION apply_posting() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE accounts
       SET balance_minor = balance_minor + CASE NEW.side WHEN 'credit' THEN NEW.amount_minor ELSE -NEW.amount_minor END,
           version = version + 1
     WHERE id = NEW.account_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER posting_applies_to_balance AFTER INSERT ON postings FOR EACH ROW EXECUTE FUNCTION apply_posting();

-- Debits equal credits in every transfer, and a transfer has at least one of each, checked at commit.
CREATE FUNCTION check_transfer_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_transfer uuid;
    debits  numeric;
    credits numeric;
BEGIN
    IF TG_TABLE_NAME = 'transfers' THEN
        checked_transfer := NEW.id;
    ELSE
        checked_transfer := NEW.transfer_id;
    END IF;
    SELECT coalesce(sum(amount_minor) FILTER (WHERE side = 'debit'), 0),
           coalesce(sum(amount_minor) FILTER (WHERE side = 'credit'), 0)
      INTO debits, credits
      FROM postings WHERE transfer_id = checked_transfer;
    IF debits <> credits OR debits = 0 THEN
        RAISE EXCEPTION 'transfer % is unbalanced: debits % and credits % (both must be equal and positive)', checked_transfer, debits, credits
            USING ERRCODE = 'check_violation', CONSTRAINT = 'transfer_balanced', TABLE = 'transfers';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER transfer_balanced AFTER INSERT ON transfers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_transfer_balanced();
CREATE CONSTRAINT TRIGGER transfer_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_transfer_balanced();

SELECT audit_table('accounts', 'id');
SELECT audit_table('transfers', 'id');
SELECT audit_table('postings', 'transfer_id', 'account_id', 'side');

-- Least privilege: open accounts and post transfers; no UPDATE or DELETE on the ledger at all.
GRANT SELECT ON accounts, transfers, postings TO concord_app;
GRANT INSERT (id, currency, floor_minor) ON accounts TO concord_app;
GRANT INSERT (id, currency, kind, reference) ON transfers TO concord_app;
GRANT INSERT ON postings TO concord_app;
