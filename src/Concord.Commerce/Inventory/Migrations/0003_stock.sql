-- Inventory: stock per SKU and reservations held for orders.
CREATE TABLE stock (
    sku        text        PRIMARY KEY CONSTRAINT stock_sku_format CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
    on_hand    integer     NOT NULL CONSTRAINT stock_on_hand_non_negative CHECK (on_hand >= 0),
    reserved   integer     NOT NULL DEFAULT 0 CONSTRAINT stock_reserved_non_negative CHECK (reserved >= 0),
    version    bigint      NOT NULL DEFAULT 1 CONSTRAINT stock_version_positive CHECK (version > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_reserved_within_on_hand CHECK (reserved <= on_hand)
);

CREATE TABLE reservations (
    order_id   uuid        NOT NULL,
    sku        text        NOT NULL REFERENCES stock (sku),
    quantity   integer     NOT NULL CONSTRAINT reservation_quantity_positive CHECK (quantity > 0),
    state      text        NOT NULL DEFAULT 'held' CONSTRAINT reservation_state CHECK (state IN ('held', 'committed', 'released')),
    expires_at timestamptz NOT NULL,
    version    bigint      NOT NULL DEFAULT 1 CONSTRAINT reservation_version_positive CHECK (version > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reservation_one_per_order_and_sku PRIMARY KEY (order_id, sku)
);

-- The deferred check below sums a SKU's held reservations at every commit that touches it.
CREATE INDEX reservations_held_by_sku ON reservations (sku) WHERE state = 'held';
-- Expired holds are found by the hold sweeper.
CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE state = 'held';

-- stock.reserved is the sum of that SKU's held reservations. A rule across rows, so it is checked at
-- commit by a deferred constraint trigger: inside the transaction the two may differ for a moment.
CREATE FUNCTION check_stock_reserved_matches_holds() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_sku text;
    recorded    integer;
    held        bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        checked_sku := OLD.sku;
    ELSE
        checked_sku := NEW.sku;
    END IF;
    SELECT reserved INTO recorded FROM stock WHERE sku = checked_sku;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(quantity), 0) INTO held FROM reservations WHERE sku = checked_sku AND state = 'held';
    IF recorded <> held THEN
        RAISE EXCEPTION 'stock % records % reserved, but its held reservations add up to %', checked_sku, recorded, held
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_reserved_matches_holds', TABLE = 'stock';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER stock_reserved_matches_holds AFTER INSERT OR UPDATE OR DELETE ON reservations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_stock_reserved_matches_holds();
CREATE CONSTRAINT TRIGGER stock_reserved_matches_holds AFTER INSERT OR UPDATE OF reserved ON stock
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_stock_reserved_matches_holds();

SELECT audit_table('stock', 'sku');
SELECT audit_table('reservations', 'order_id', 'sku');

GRANT SELECT, INSERT, UPDATE ON stock, reservations TO concord_app;
