-- Every bump of the catalogue's version (0006, 0011) is also announced on the channel `wosool_catalogue`, with the
-- new version as the payload. PostgreSQL sends it when (and only if) the change commits, to every session
-- listening on the tenant's database: each process's pooled connections listen, and a process trusts the
-- catalogue it remembers while they hear nothing newer, instead of reading the version on every request
-- (app/crm/services.py).
CREATE OR REPLACE FUNCTION crm_bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bumped bigint;
BEGIN
    UPDATE crm_catalogue_version SET version = version + 1 WHERE id = 1 RETURNING version INTO bumped;
    PERFORM pg_notify('wosool_catalogue', bumped::text);
    RETURN NULL;
END
$$;
