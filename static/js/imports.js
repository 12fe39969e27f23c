// Dashboard: imports.
