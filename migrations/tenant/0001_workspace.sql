-- The tenant's own description of itself; the CRM engine's tables arrive in later migrations.
CREATE TABLE workspace (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    tenant_id uuid NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    default_locale text NOT NULL DEFAULT 'ar' CHECK (default_locale IN ('ar', 'en')),
    default_currency char(3) NOT NULL DEFAULT 'SAR',
    timezone text NOT NULL DEFAULT 'Asia/Riyadh',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
