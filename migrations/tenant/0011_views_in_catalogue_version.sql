-- Saved views change the catalogue's version too (migration 0006): every list page shows the object's views, and
-- a process keeps them with the tenant's catalogue instead of reading them on every page.
CREATE TRIGGER views_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON views
    FOR EACH STATEMENT EXECUTE FUNCTION crm_bump_catalogue_version();
