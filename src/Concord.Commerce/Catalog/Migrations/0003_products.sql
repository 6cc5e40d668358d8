-- Catalog: what is for sale and at what price. Read-mostly, so a candidate for replica reads with
-- bounded staleness (today the API reads the primary).
CREATE TABLE products (
    sku         text        PRIMARY KEY CONSTRAINT product_sku_format CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
    name        text        NOT NULL CONSTRAINT product_name_length CHECK (length(name) BETWEEN 1 AND 200),
    price_minor bigint      NOT NULL CONSTRAINT product_price_range CHECK (price_minor BETWEEN 0 AND 100000000),
    currency    text        NOT NULL CONSTRAINT product_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    version     bigint      NOT NULL DEFAULT 1 CONSTRAINT product_version_positive CHECK (version > 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

SELECT audit_table('products', 'sku');

GRANT SELECT, INSERT, UPDATE ON products TO concord_app;
