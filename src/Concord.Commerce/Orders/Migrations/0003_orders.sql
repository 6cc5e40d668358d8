-- Orders and the customers who place them.
CREATE TABLE customers (
    id         uuid        PRIMARY KEY,
    email      text        NOT NULL CONSTRAINT customer_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    name       text        NOT NULL CONSTRAINT customer_name_length CHECK (length(name) BETWEEN 1 AND 200),
    version    bigint      NOT NULL DEFAULT 1 CONSTRAINT customer_version_positive CHECK (version > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Unique without regard to case: Alice@Example.com and alice@example.com are one customer.
CREATE UNIQUE INDEX customer_email_unique_ci ON customers (lower(email));

-- The order state machine, as data: a status moves only along a row of this table.
CREATE TABLE order_status_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO order_status_transitions VALUES
    ('pending',            'stock_reserved'),
    ('stock_reserved',     'payment_authorized'),
    ('payment_authorized', 'paid'),
    ('paid',               'confirmed'),
    ('pending',            'cancelled'),
    ('stock_reserved',     'cancelled'),
    ('payment_authorized', 'cancelled'),
    ('paid',               'cancelled');

CREATE TABLE orders (
    id          uuid        PRIMARY KEY,
    customer_id uuid        NOT NULL REFERENCES customers (id),
    status      text        NOT NULL DEFAULT 'pending' CONSTRAINT order_status CHECK
                    (status IN ('pending', 'stock_reserved', 'payment_authorized', 'paid', 'confirmed', 'cancelled')),
    currency    text        NOT NULL CONSTRAINT order_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor bigint      NOT NULL CONSTRAINT order_total_non_negative CHECK (total_minor >= 0),
    version     bigint      NOT NULL DEFAULT 1 CONSTRAINT order_version_positive CHECK (version > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at);

CREATE TABLE order_lines (
    order_id         uuid     NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          smallint NOT NULL CONSTRAINT order_line_no_range CHECK (line_no BETWEEN 1 AND 100),
    sku              text     NOT NULL CONSTRAINT order_line_sku_format CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
    quantity         integer  NOT NULL CONSTRAINT order_line_quantity_range CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_minor bigint   NOT NULL CONSTRAINT order_line_unit_price_range CHECK (unit_price_minor BETWEEN 0 AND 100000000),
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_line_one_per_sku UNIQUE (order_id, sku)
);

CREATE FUNCTION check_order_status_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
        SELECT 1 FROM order_status_transitions WHERE from_status = OLD.status AND to_status = NEW.status) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_status_transition', TABLE = 'orders';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER order_status_transition BEFORE UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION check_order_status_transition();

CREATE FUNCTION check_new_order_is_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'pending' THEN
        RAISE EXCEPTION 'a new order starts as pending, not %', NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_status_transition', TABLE = 'orders';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER order_starts_pending BEFORE INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION check_new_order_is_pending();

-- The stored total equals the sum of its lines. Lines are written after their order in the same
-- transaction, so the check waits for commit (a deferred constraint trigger), not for each statement.
CREATE FUNCTION check_order_total_matches_lines() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_order uuid;
    stored        bigint;
    computed      numeric;
BEGIN
    -- Separate branches: PL/pgSQL resolves a record's fields when a statement first runs, and
    -- orders has no order_id, order_lines no id.
    IF TG_TABLE_NAME = 'orders' THEN
        checked_order := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        checked_order := OLD.order_id;
    ELSE
        checked_order := NEW.order_id;
    END IF;
    SELECT total_minor INTO stored FROM orders WHERE id = checked_order;
    IF NOT FOUND THEN
        RETURN NULL; -- the order itself was deleted; its lines went with it
    END IF;
    SELECT coalesce(sum(quantity::numeric * unit_price_minor), 0) INTO computed FROM order_lines WHERE order_id = checked_order;
    IF stored <> computed THEN
        RAISE EXCEPTION 'order % stores total % but its lines add up to %', checked_order, stored, computed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_total_matches_lines', TABLE = 'orders';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER order_total_matches_lines AFTER INSERT OR UPDATE OF total_minor ON orders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_order_total_matches_lines();
CREATE CONSTRAINT TRIGGER order_total_matches_lines AFTER INSERT OR UPDATE OR DELETE ON order_lines
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_order_total_matches_lines();

SELECT audit_table('customers', 'id');
SELECT audit_table('orders', 'id');
SELECT audit_table('order_lines', 'order_id', 'line_no');

GRANT SELECT, INSERT, UPDATE ON customers, orders, order_lines TO concord_app;
GRANT SELECT ON order_status_transitions TO concord_app;
