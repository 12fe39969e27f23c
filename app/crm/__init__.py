"""The CRM engine inside every tenant database: objects, fields, records, views, search."""
