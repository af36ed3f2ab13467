"""Webhook subscriptions of the caller's authority (status changes of its requests)."""

from __future__ import annotations

from flask import Response

from mla.api import schemas as s
from mla.api.problems import ApiProblem
from mla.api.routing import actor, json_body, operation
from mla.api.views import READ, WRITE, bp, json_response
from mla.app_services import subscription_service
from mla.db import parse_id
from mla.notify.models import WebhookSubscription


def _out(sub: WebhookSubscription) -> s.SubscriptionOut:
    return s.SubscriptionOut(
        id=sub.id, url=sub.url, events=sub.events, created_at=sub.created_at, active=sub.active
    )


@operation(
    bp,
    "GET",
    "/subscriptions",
    summary="The caller's webhook subscriptions",
    tag="subscriptions",
    scope=READ,
    responses={200: s.SubscriptionList},
)
def list_subscriptions() -> Response:
    """Active subscriptions of the caller's authority; 403 unless the token was issued with
    ``--role admin``."""
    subs = subscription_service().list(actor())
    return json_response(s.SubscriptionList(items=[_out(x) for x in subs]))


@operation(
    bp,
    "POST",
    "/subscriptions",
    summary="Subscribe a URL to status changes",
    tag="subscriptions",
    scope=WRITE,
    body=s.SubscriptionIn,
    responses={201: s.SubscriptionCreated},
)
def add_subscription() -> Response:
    """Deliveries are POSTs signed with HMAC-SHA256 (``X-MLA-Signature``, see README); the
    secret is in this response only. For a confidential request a delivery carries its
    reference and state, never its facts. 403 unless the token was issued with
    ``--role admin``; 422 naming ``url`` past ``MLA_WEBHOOK_MAX_SUBSCRIPTIONS``."""
    body = json_body(s.SubscriptionIn)
    sub, secret = subscription_service().add(actor(), body.url, body.events)
    created = s.SubscriptionCreated(**_out(sub).model_dump(), secret=secret)
    return json_response(created, 201)


@operation(
    bp,
    "DELETE",
    "/subscriptions/{subscription_id}",
    summary="Remove a subscription",
    tag="subscriptions",
    scope=WRITE,
    responses={204: None},
)
def remove_subscription(subscription_id: str) -> Response:
    """Stop deliveries; 404 for another authority's subscription, 403 unless the token
    was issued with ``--role admin``."""
    number = parse_id(subscription_id)
    if number is None:
        raise ApiProblem(404, "Not found", f"no webhook subscription {subscription_id}")
    subscription_service().remove(actor(), number)
    return Response(status=204)
