"""The append-only, hash-chained history of every request, and its verifier."""
