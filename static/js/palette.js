// Dashboard: palette.
