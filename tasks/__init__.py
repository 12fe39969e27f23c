"""Background jobs: SAQ worker settings and thin job functions that call domain services."""
