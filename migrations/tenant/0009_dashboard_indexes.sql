-- The dashboard's home (app/crm/figures.py): its figures are a few aggregates, each served by an index.
-- Plain CREATE INDEX (a migration runs in a transaction): on a big tenant, writes to these tables wait a few seconds.
-- Recent activity reads the newest timeline events across every object.
CREATE INDEX timeline_events_recent ON timeline_events (happened_at DESC, id DESC);
-- Orders and revenue per day of the last 30 days: an index-only scan of the period (no visit to the rows).
CREATE INDEX orders_period ON orders (ordered_at) INCLUDE (total_amount_minor, total_currency)
    WHERE deleted_at IS NULL;
-- Tasks due: open tasks by due time (done tasks, usually most of them, are left out of the index).
CREATE INDEX tasks_open_due ON tasks (due_at) WHERE deleted_at IS NULL AND status IS DISTINCT FROM 'done';
-- A customer's or a company's page lists their deals (the related records panel of the record page).
CREATE INDEX opportunities_point_of_contact ON opportunities (point_of_contact) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_company ON opportunities (company) WHERE deleted_at IS NULL;
-- The customers list sorted by name (its first column) pages through an index, not a sort of every row.
CREATE INDEX people_by_name ON people (first_name, last_name, id) WHERE deleted_at IS NULL;
CREATE INDEX people_by_last_name ON people (last_name, id) WHERE deleted_at IS NULL;
