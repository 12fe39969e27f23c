-- Every object's table has a newest-first index, as custom objects' tables get when they are made
-- (app/crm/schema_changes.py) and people, companies and products had from 0002: search walks a table's newest rows
-- for a broad term's candidates (app/crm/search.py). Lists sort NULLS LAST and do not use it. Without one, each
-- search read and sorted every row of these tables (19-22 ms a search with 100,000 orders, against 2 ms with it).
-- Plain CREATE INDEX (a migration runs in a transaction): on a big tenant, writes to these tables wait a few seconds.
CREATE INDEX opportunities_created ON opportunities (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_created ON tasks (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX notes_created ON notes (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX orders_created ON orders (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX order_items_created ON order_items (created_at DESC, id) WHERE deleted_at IS NULL;
