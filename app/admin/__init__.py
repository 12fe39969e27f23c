"""Operators: the audit log (and, later, the super-admin console)."""
