-- Salla sync: an order remembers its customer's Salla id, so an order that arrives before its customer (a webhook
-- out of order, or a customer not synced yet) is linked as soon as that customer is stored.
ALTER TABLE orders ADD COLUMN customer_salla_id text;
CREATE INDEX orders_customer_salla_id ON orders (customer_salla_id) WHERE customer IS NULL AND customer_salla_id IS NOT NULL;
-- order lines of an order summary (Salla's order list gives name, quantity and thumbnail only)
ALTER TABLE order_items ADD COLUMN salla_updated_at timestamptz;
-- Abandoned carts (webhook abandoned.cart) become deals: a deal remembers its cart's Salla id, so a cart delivered
-- again (or updated) changes its one deal instead of adding another.
ALTER TABLE opportunities ADD COLUMN salla_id text UNIQUE, ADD COLUMN salla_updated_at timestamptz;
INSERT INTO crm_fields (object_name, name, type, label_en, label_ar, required, is_unique, options, settings, searchable, position)
SELECT 'opportunities', 'salla_id', 'text', 'Salla cart id', 'معرّف السلة في سلة', false, true, '[]', '{}', false,
       COALESCE(max(position), 0) + 1
FROM crm_fields WHERE object_name = 'opportunities';
