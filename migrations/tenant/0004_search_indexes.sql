-- Search: trigram indexes turn LIKE '%term%' on the normalised search text into an index scan (terms of three
-- characters or more). pg_trgm is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX people_search ON people USING gin (search_text gin_trgm_ops);
CREATE INDEX companies_search ON companies USING gin (search_text gin_trgm_ops);
CREATE INDEX opportunities_search ON opportunities USING gin (search_text gin_trgm_ops);
CREATE INDEX tasks_search ON tasks USING gin (search_text gin_trgm_ops);
CREATE INDEX notes_search ON notes USING gin (search_text gin_trgm_ops);
CREATE INDEX products_search ON products USING gin (search_text gin_trgm_ops);
CREATE INDEX orders_search ON orders USING gin (search_text gin_trgm_ops);
CREATE INDEX order_items_search ON order_items USING gin (search_text gin_trgm_ops);

-- Lists sort descending with NULLs last by default (app/crm/query.py); these match that order exactly.
CREATE INDEX orders_newest ON orders (ordered_at DESC NULLS LAST, id) WHERE deleted_at IS NULL;
CREATE INDEX people_newest ON people (created_at DESC NULLS LAST, id) WHERE deleted_at IS NULL;
CREATE INDEX people_city_last_name ON people (city, last_name, id) WHERE deleted_at IS NULL;
