// Dashboard: settings.
