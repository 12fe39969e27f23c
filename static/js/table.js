// Dashboard: table.
