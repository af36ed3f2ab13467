"""The staff web UI: the blueprint (:mod:`mla.web.blueprint`) with every view registered."""

from mla.web.blueprint import bp

# The views register their routes on ``bp``; imported last because they import ``bp``.
from mla.web.views import (  # noqa: F401
    actions,
    admin,
    admin_directory,
    admin_webhooks,
    auth,
    dashboard,
    directory,
    documents,
    drafts,
    list_actions,
    notifications,
    received,
    requests,
    statistics,
)

__all__ = ["bp"]
