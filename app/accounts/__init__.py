"""People: users, passwords, sign-up, sign-in and memberships of tenants."""
