-- The CRM engine's metadata and its standard objects (modelled on Twenty CRM, for e-commerce).
-- Every object is a real table; its fields are described in crm_fields, and each field maps to one or more
-- columns by the rules of app/crm/fields.py (e.g. a currency field "price" is price_amount_minor + price_currency).
-- tests/crm check that every described field has exactly its columns here.

CREATE TABLE crm_objects (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    singular text NOT NULL,
    table_name text NOT NULL UNIQUE,
    label_singular_en text NOT NULL,
    label_singular_ar text NOT NULL,
    label_plural_en text NOT NULL,
    label_plural_ar text NOT NULL,
    is_custom boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm_fields (
    object_name text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    type text NOT NULL,
    label_en text NOT NULL,
    label_ar text NOT NULL,
    required boolean NOT NULL DEFAULT false,
    is_unique boolean NOT NULL DEFAULT false,
    options jsonb NOT NULL DEFAULT '[]',
    default_value jsonb,
    settings jsonb NOT NULL DEFAULT '{}',
    searchable boolean NOT NULL DEFAULT false,
    is_custom boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object_name, name)
);

-- Every object table starts with the same record columns: id; created/updated at and by (the source is a user,
-- an API key, Salla sync, the storefront widget, an import or the system); deleted_at (soft delete, restorable);
-- position (manual order, kanban); search_text (the normalised text of the searchable fields, kept by the engine).
-- Objects that Salla sync fills also have salla_updated_at: the source's own update time, so that a webhook that
-- arrives late never overwrites newer data.

CREATE TABLE companies (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    name text,
    domain_primary_url text,
    domain_primary_label text,
    domain_additional jsonb,
    employees numeric,
    address_street text,
    address_city text,
    address_region text,
    address_postal_code text,
    address_country char(2)
);

CREATE TABLE people (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    first_name text,
    last_name text,
    email_primary text,
    email_additional jsonb,
    phone_primary text,
    phone_additional jsonb,
    city text,
    country text,
    job_title text,
    company uuid REFERENCES companies (id) ON DELETE SET NULL,
    salla_id text UNIQUE,
    salla_updated_at timestamptz
);

CREATE TABLE opportunities (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    name text,
    stage text,
    amount_amount_minor bigint,
    amount_currency char(3),
    close_date date,
    point_of_contact uuid REFERENCES people (id) ON DELETE SET NULL,
    company uuid REFERENCES companies (id) ON DELETE SET NULL
);

CREATE TABLE tasks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    title text,
    body text,
    status text,
    due_at timestamptz,
    assignee uuid
);

CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    title text,
    body text
);

CREATE TABLE products (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    name text,
    sku text,
    price_amount_minor bigint,
    price_currency char(3),
    status text,
    quantity numeric,
    image_url_primary_url text,
    image_url_primary_label text,
    image_url_additional jsonb,
    salla_id text UNIQUE,
    salla_updated_at timestamptz
);

CREATE TABLE orders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    reference text,
    status text,
    total_amount_minor bigint,
    total_currency char(3),
    customer uuid REFERENCES people (id) ON DELETE SET NULL,
    ordered_at timestamptz,
    item_count numeric,
    item_summary text,
    salla_id text UNIQUE,
    salla_updated_at timestamptz
);

CREATE TABLE order_items (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    "order" uuid REFERENCES orders (id) ON DELETE CASCADE,
    product uuid REFERENCES products (id) ON DELETE SET NULL,
    name text,
    sku text,
    quantity numeric,
    unit_price_amount_minor bigint,
    unit_price_currency char(3),
    total_amount_minor bigint,
    total_currency char(3),
    salla_id text UNIQUE
);

-- Links between any two records (notes and tasks to anything; general many-to-many relations).
CREATE TABLE record_links (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_object text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    source_id uuid NOT NULL,
    target_object text NOT NULL REFERENCES crm_objects (name) ON UPDATE CASCADE ON DELETE CASCADE,
    target_id uuid NOT NULL,
    relation text NOT NULL DEFAULT 'related',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_object, source_id, target_object, target_id, relation)
);
CREATE INDEX record_links_target ON record_links (target_object, target_id);

-- What happened to each record: field diffs with the actor, and notes, tasks, orders and storefront events.
CREATE TABLE timeline_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_name text NOT NULL,
    record_id uuid NOT NULL,
    happened_at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    actor_source text NOT NULL DEFAULT 'system',
    actor_id text,
    actor_name text,
    diff jsonb NOT NULL DEFAULT '{}',
    summary text NOT NULL DEFAULT ''
);
CREATE INDEX timeline_events_record ON timeline_events (object_name, record_id, happened_at DESC);

-- Lists read newest first; the id breaks ties so keyset pages never skip or repeat.
CREATE INDEX people_created ON people (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX people_email ON people (email_primary) WHERE deleted_at IS NULL;
CREATE INDEX people_phone ON people (phone_primary) WHERE deleted_at IS NULL;
CREATE INDEX people_company ON people (company);
CREATE INDEX companies_created ON companies (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_domain ON companies (domain_primary_url) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_stage ON opportunities (stage, position) WHERE deleted_at IS NULL;
CREATE INDEX tasks_due ON tasks (status, due_at) WHERE deleted_at IS NULL;
CREATE INDEX products_created ON products (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX orders_customer ON orders (customer, ordered_at DESC);
CREATE INDEX orders_ordered ON orders (ordered_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX order_items_order ON order_items ("order");

INSERT INTO crm_objects (name, singular, table_name, label_singular_en, label_singular_ar, label_plural_en, label_plural_ar, position) VALUES
    ('people', 'person', 'people', 'Customer', 'عميل', 'Customers', 'العملاء', 1),
    ('companies', 'company', 'companies', 'Company', 'شركة', 'Companies', 'الشركات', 2),
    ('opportunities', 'opportunity', 'opportunities', 'Deal', 'صفقة', 'Deals', 'الصفقات', 3),
    ('tasks', 'task', 'tasks', 'Task', 'مهمة', 'Tasks', 'المهام', 4),
    ('notes', 'note', 'notes', 'Note', 'ملاحظة', 'Notes', 'الملاحظات', 5),
    ('products', 'product', 'products', 'Product', 'منتج', 'Products', 'المنتجات', 6),
    ('orders', 'order', 'orders', 'Order', 'طلب', 'Orders', 'الطلبات', 7),
    ('order_items', 'order_item', 'order_items', 'Order item', 'عنصر الطلب', 'Order items', 'عناصر الطلبات', 8);

INSERT INTO crm_fields (object_name, name, type, label_en, label_ar, required, is_unique, options, settings, searchable, position) VALUES
    ('people', 'first_name', 'text', 'First name', 'الاسم الأول', false, false, '[]', '{}', true, 1),
    ('people', 'last_name', 'text', 'Last name', 'اسم العائلة', false, false, '[]', '{}', true, 2),
    ('people', 'email', 'emails', 'E-mail', 'البريد الإلكتروني', false, false, '[]', '{}', true, 3),
    ('people', 'phone', 'phones', 'Phone', 'الجوال', false, false, '[]', '{"default_region": "SA"}', true, 4),
    ('people', 'city', 'text', 'City', 'المدينة', false, false, '[]', '{}', true, 5),
    ('people', 'country', 'text', 'Country', 'الدولة', false, false, '[]', '{}', false, 6),
    ('people', 'job_title', 'text', 'Job title', 'المسمى الوظيفي', false, false, '[]', '{}', false, 7),
    ('people', 'company', 'relation', 'Company', 'الشركة', false, false, '[]', '{"target": "companies"}', false, 8),
    ('people', 'salla_id', 'text', 'Salla id', 'معرّف سلة', false, true, '[]', '{}', false, 9),
    ('companies', 'name', 'text', 'Name', 'الاسم', true, false, '[]', '{}', true, 1),
    ('companies', 'domain', 'links', 'Website', 'الموقع', false, false, '[]', '{}', true, 2),
    ('companies', 'employees', 'number', 'Employees', 'عدد الموظفين', false, false, '[]', '{"decimals": 0}', false, 3),
    ('companies', 'address', 'address', 'Address', 'العنوان', false, false, '[]', '{}', false, 4),
    ('opportunities', 'name', 'text', 'Name', 'الاسم', true, false, '[]', '{}', true, 1),
    ('opportunities', 'stage', 'select', 'Stage', 'المرحلة', false, false,
        '[{"value": "new", "label_en": "New", "label_ar": "جديدة", "color": "blue"},
          {"value": "screening", "label_en": "Screening", "label_ar": "قيد الدراسة", "color": "purple"},
          {"value": "meeting", "label_en": "Meeting", "label_ar": "اجتماع", "color": "sky"},
          {"value": "proposal", "label_en": "Proposal", "label_ar": "عرض سعر", "color": "orange"},
          {"value": "customer", "label_en": "Customer", "label_ar": "عميل", "color": "green"},
          {"value": "lost", "label_en": "Lost", "label_ar": "خسارة", "color": "red"}]',
        '{}', false, 2),
    ('opportunities', 'amount', 'currency', 'Amount', 'القيمة', false, false, '[]', '{"default_currency": "SAR"}', false, 3),
    ('opportunities', 'close_date', 'date', 'Close date', 'تاريخ الإغلاق', false, false, '[]', '{}', false, 4),
    ('opportunities', 'point_of_contact', 'relation', 'Point of contact', 'جهة الاتصال', false, false, '[]', '{"target": "people"}', false, 5),
    ('opportunities', 'company', 'relation', 'Company', 'الشركة', false, false, '[]', '{"target": "companies"}', false, 6),
    ('tasks', 'title', 'text', 'Title', 'العنوان', true, false, '[]', '{}', true, 1),
    ('tasks', 'body', 'rich_text', 'Details', 'التفاصيل', false, false, '[]', '{}', true, 2),
    ('tasks', 'status', 'select', 'Status', 'الحالة', false, false,
        '[{"value": "todo", "label_en": "To do", "label_ar": "للتنفيذ", "color": "gray"},
          {"value": "in_progress", "label_en": "In progress", "label_ar": "قيد التنفيذ", "color": "blue"},
          {"value": "done", "label_en": "Done", "label_ar": "منجزة", "color": "green"}]',
        '{}', false, 3),
    ('tasks', 'due_at', 'datetime', 'Due', 'موعد الاستحقاق', false, false, '[]', '{}', false, 4),
    ('tasks', 'assignee', 'relation', 'Assignee', 'المكلّف', false, false, '[]', '{"target": "members"}', false, 5),
    ('notes', 'title', 'text', 'Title', 'العنوان', false, false, '[]', '{}', true, 1),
    ('notes', 'body', 'rich_text', 'Note', 'الملاحظة', false, false, '[]', '{}', true, 2),
    ('products', 'name', 'text', 'Name', 'الاسم', true, false, '[]', '{}', true, 1),
    ('products', 'sku', 'text', 'SKU', 'رمز المنتج', false, false, '[]', '{}', true, 2),
    ('products', 'price', 'currency', 'Price', 'السعر', false, false, '[]', '{"default_currency": "SAR"}', false, 3),
    ('products', 'status', 'select', 'Status', 'الحالة', false, false,
        '[{"value": "sale", "label_en": "For sale", "label_ar": "معروض للبيع", "color": "green"},
          {"value": "out", "label_en": "Out of stock", "label_ar": "نفد المخزون", "color": "orange"},
          {"value": "hidden", "label_en": "Hidden", "label_ar": "مخفي", "color": "gray"}]',
        '{}', false, 4),
    ('products', 'quantity', 'number', 'Quantity', 'الكمية', false, false, '[]', '{"decimals": 0}', false, 5),
    ('products', 'image_url', 'links', 'Image', 'الصورة', false, false, '[]', '{}', false, 6),
    ('products', 'salla_id', 'text', 'Salla id', 'معرّف سلة', false, true, '[]', '{}', false, 7),
    ('orders', 'reference', 'text', 'Reference', 'رقم الطلب', false, false, '[]', '{}', true, 1),
    ('orders', 'status', 'text', 'Status', 'الحالة', false, false, '[]', '{}', false, 2),
    ('orders', 'total', 'currency', 'Total', 'الإجمالي', false, false, '[]', '{"default_currency": "SAR"}', false, 3),
    ('orders', 'customer', 'relation', 'Customer', 'العميل', false, false, '[]', '{"target": "people"}', false, 4),
    ('orders', 'ordered_at', 'datetime', 'Ordered at', 'تاريخ الطلب', false, false, '[]', '{}', false, 5),
    ('orders', 'item_count', 'number', 'Items', 'عدد العناصر', false, false, '[]', '{"decimals": 0}', false, 6),
    ('orders', 'item_summary', 'text', 'Items summary', 'ملخص العناصر', false, false, '[]', '{}', true, 7),
    ('orders', 'salla_id', 'text', 'Salla id', 'معرّف سلة', false, true, '[]', '{}', false, 8),
    ('order_items', 'order', 'relation', 'Order', 'الطلب', true, false, '[]', '{"target": "orders"}', false, 1),
    ('order_items', 'product', 'relation', 'Product', 'المنتج', false, false, '[]', '{"target": "products"}', false, 2),
    ('order_items', 'name', 'text', 'Name', 'الاسم', false, false, '[]', '{}', true, 3),
    ('order_items', 'sku', 'text', 'SKU', 'رمز المنتج', false, false, '[]', '{}', false, 4),
    ('order_items', 'quantity', 'number', 'Quantity', 'الكمية', false, false, '[]', '{"decimals": 0}', false, 5),
    ('order_items', 'unit_price', 'currency', 'Unit price', 'سعر الوحدة', false, false, '[]', '{"default_currency": "SAR"}', false, 6),
    ('order_items', 'total', 'currency', 'Total', 'الإجمالي', false, false, '[]', '{"default_currency": "SAR"}', false, 7),
    ('order_items', 'salla_id', 'text', 'Salla id', 'معرّف سلة', false, true, '[]', '{}', false, 8);
