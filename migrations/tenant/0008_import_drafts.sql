-- The dashboard's import wizard (upload -> map columns -> preview -> run) keeps the uploaded file here between its
-- steps, in PostgreSQL like an import job's own input, never in the session; running it creates the import job
-- (import_id). Drafts older than a day are deleted by the next upload.
CREATE TABLE import_drafts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    object_name text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    file_name text NOT NULL DEFAULT '',
    content bytea NOT NULL,
    -- What the pages show without reading the file again: its header, first rows and row count.
    header jsonb NOT NULL DEFAULT '[]',
    samples jsonb NOT NULL DEFAULT '[]',
    total_rows integer NOT NULL DEFAULT 0,
    -- CSV column -> target (or null: skip), as chosen in step 2; null until then.
    mapping jsonb,
    mode text NOT NULL DEFAULT 'all_or_nothing' CHECK (mode IN ('all_or_nothing', 'skip_bad_rows')),
    dedupe_field text,
    -- Who uploaded it ("user:<id>"): only they see the draft.
    created_by text NOT NULL,
    import_id uuid REFERENCES import_jobs (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_drafts_created ON import_drafts (created_at);

-- The columns of the list view an export was started from (the export job itself writes every column).
CREATE TABLE export_view_columns (
    export_id uuid PRIMARY KEY REFERENCES export_jobs (id) ON DELETE CASCADE,
    columns text[] NOT NULL
);
