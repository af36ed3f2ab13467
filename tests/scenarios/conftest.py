"""Scenario fixtures: the API callers of tests/api (arg, arg_supervisor, mex, mex_supervisor,
court, col), re-exported so that a scenario walks a request with the tokens of the parties
that would act."""

from tests.api.conftest import Api, Callers, api

__all__ = ["Api", "Callers", "api"]
