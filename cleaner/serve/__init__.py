"""`serve`: the scheduled service, its HTTP endpoints and metrics."""
