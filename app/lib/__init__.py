"""Plumbing shared by every domain: logging, request ids, error pages, locale, embedded servers."""
