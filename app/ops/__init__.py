"""Running Wosool: liveness and readiness probes, worker heartbeats, metrics."""
