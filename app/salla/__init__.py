"""Salla: the app store install, webhooks, tokens and the sync that fills a merchant's CRM from their store."""
