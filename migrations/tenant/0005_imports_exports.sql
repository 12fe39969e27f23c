-- CSV import and export jobs (SAQ jobs: tasks/imports.py). The uploaded file and the export result live here,
-- in PostgreSQL, so a job survives the loss of Redis; the job row is the source of truth for status and progress.

CREATE TABLE import_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    object_name text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    mode text NOT NULL DEFAULT 'all_or_nothing' CHECK (mode IN ('all_or_nothing', 'skip_bad_rows')),
    -- Rows whose value of this field matches a live record update that record instead of creating another.
    dedupe_field text,
    -- CSV column -> target (a field name, or a field part such as price_currency); see app/crm/imports.py.
    mapping jsonb NOT NULL DEFAULT '{}',
    file_name text NOT NULL DEFAULT '',
    content bytea NOT NULL,
    total_rows integer NOT NULL DEFAULT 0,
    processed_rows integer NOT NULL DEFAULT 0,
    created_rows integer NOT NULL DEFAULT 0,
    updated_rows integer NOT NULL DEFAULT 0,
    failed_rows integer NOT NULL DEFAULT 0,
    -- Per-row errors, [{"row": 7, "errors": {"email": "..."}}], at most 1000 entries (failed_rows has the count).
    report jsonb NOT NULL DEFAULT '[]',
    -- Why the whole job failed, when it did.
    error text,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX import_jobs_created ON import_jobs (created_at DESC);

CREATE TABLE export_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    object_name text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    -- The JSON filter syntax of app/crm/query.py, and sorts as [{"field", "direction", "nulls"}].
    filter jsonb,
    sorts jsonb NOT NULL DEFAULT '[]',
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    total_rows integer NOT NULL DEFAULT 0,
    processed_rows integer NOT NULL DEFAULT 0,
    content bytea,
    error text,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX export_jobs_created ON export_jobs (created_at DESC);
