"""The JSON API for requesting states' systems, under /api/v1."""
