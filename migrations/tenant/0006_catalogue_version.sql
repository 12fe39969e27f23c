-- Every change to the catalogue (crm_objects, crm_fields) bumps one number, in the same transaction. Each process
-- caches a tenant's catalogue by that number, so a schema change made by any process is seen by all at once.
CREATE TABLE crm_catalogue_version (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO crm_catalogue_version (id, version) VALUES (1, 1);

CREATE FUNCTION crm_bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crm_catalogue_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER crm_objects_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm_objects
    FOR EACH STATEMENT EXECUTE FUNCTION crm_bump_catalogue_version();
CREATE TRIGGER crm_fields_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm_fields
    FOR EACH STATEMENT EXECUTE FUNCTION crm_bump_catalogue_version();
