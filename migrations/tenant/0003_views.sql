-- Saved views: a table or kanban over one object, with a filter tree (the JSON form of app/crm/query.py), sorts,
-- visible columns and, for kanban, the select field that makes the columns. owner_user_id NULL means shared.
-- A filter value "@me" stands for the person looking at the view.
CREATE TABLE views (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    object_name text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    label_en text NOT NULL,
    label_ar text NOT NULL,
    kind text NOT NULL DEFAULT 'table' CHECK (kind IN ('table', 'kanban')),
    filter jsonb,
    sorts jsonb NOT NULL DEFAULT '[]',
    columns jsonb NOT NULL DEFAULT '[]',
    group_by text,
    owner_user_id uuid,
    is_default boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'kanban' OR group_by IS NOT NULL)
);
CREATE INDEX views_object ON views (object_name, position);

INSERT INTO views (object_name, label_en, label_ar, kind, filter, sorts, columns, group_by, is_default, position) VALUES
    ('people', 'All customers', 'كل العملاء', 'table', NULL,
        '[{"field": "created_at", "direction": "desc"}]',
        '["first_name", "last_name", "phone", "email", "city", "company"]', NULL, true, 1),
    ('companies', 'All companies', 'كل الشركات', 'table', NULL,
        '[{"field": "name", "direction": "asc"}]', '["name", "domain", "employees"]', NULL, true, 1),
    ('opportunities', 'Pipeline by stage', 'الصفقات حسب المرحلة', 'kanban', NULL,
        '[{"field": "position", "direction": "asc"}]', '["name", "amount", "close_date", "point_of_contact"]',
        'stage', true, 1),
    ('tasks', 'My open tasks', 'مهامي المفتوحة', 'table',
        '{"and": [{"field": "status", "op": "neq", "value": "done"}, {"field": "assignee", "op": "eq", "value": "@me"}]}',
        '[{"field": "due_at", "direction": "asc", "nulls": "last"}]', '["title", "status", "due_at"]', NULL, true, 1),
    ('tasks', 'All open tasks', 'كل المهام المفتوحة', 'table',
        '{"field": "status", "op": "neq", "value": "done"}',
        '[{"field": "due_at", "direction": "asc", "nulls": "last"}]', '["title", "status", "due_at", "assignee"]',
        NULL, false, 2),
    ('notes', 'All notes', 'كل الملاحظات', 'table', NULL,
        '[{"field": "updated_at", "direction": "desc"}]', '["title", "body"]', NULL, true, 1),
    ('products', 'All products', 'كل المنتجات', 'table', NULL,
        '[{"field": "name", "direction": "asc"}]', '["name", "sku", "price", "status", "quantity"]', NULL, true, 1),
    ('orders', 'Recent orders', 'أحدث الطلبات', 'table', NULL,
        '[{"field": "ordered_at", "direction": "desc", "nulls": "last"}]',
        '["reference", "customer", "status", "total", "ordered_at"]', NULL, true, 1);
