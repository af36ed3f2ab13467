"""The web UI's views, one module per area; each registers its routes on ``mla.web.bp``."""
