"""Scenario tests walk requests through the HTTP API with the tokens of the parties that
would act; they reuse the API tests' callers."""

from tests.api.conftest import api  # noqa: F401  (the fixture, for these tests too)
