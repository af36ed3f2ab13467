"""Fixtures for the database-free workflow tests: ``workflows`` and ``engines`` come from
the root conftest."""
