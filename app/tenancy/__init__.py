"""Tenants: their databases, roles, pools, provisioning, resolution and lifecycle."""
