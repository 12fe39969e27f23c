// Dashboard: record.
