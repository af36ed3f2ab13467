"""The request, workflow and directory operations: parse, call one service, render."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, url_for
from flask import request as http_request
from pydantic import BaseModel

from mla.api import catalog, progress, status
from mla.api import request_schemas as rs
from mla.api import schemas as s
from mla.api.cache import RecentReads, StatusCache
from mla.api.examples import CREATE_REQUEST
from mla.api.routing import actor, after_commit, json_body, operation, query_args
from mla.app_services import request_service
from mla.authorities.service import list_authorities
from mla.authorities.treaties import list_treaties
from mla.db import get_session, utcnow
from mla.requests.models import Request
from mla.requests.service import RequestService
from mla.workflow.engine import Engines
from mla.workflow.model import LANGUAGES

bp = Blueprint("api", __name__, url_prefix="/api/v1")

READ, WRITE = "requests:read", "requests:write"
ETAG = {"ETag": "the request's version and a digest of this body (for If-None-Match/If-Match)"}


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    return Response(
        model.model_dump_json(by_alias=True), status=status_code, mimetype="application/json"
    )


def lang() -> str:
    return http_request.accept_languages.best_match(LANGUAGES) or "en"


def engines() -> Engines:
    return current_app.extensions["mla.engines"]  # type: ignore[no-any-return]


# --- directory and workflows ---------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/workflows",
    summary="Workflow definitions (newest versions)",
    tag="workflows",
    scope=READ,
    responses={200: s.WorkflowList},
)
def list_workflows() -> Response:
    """The kinds of request and, for each, its fields, states, transitions and legal bases."""
    wfs = engines().workflows
    items = [catalog.workflow(wfs.latest(name), lang()) for name in wfs.names()]
    return json_response(s.WorkflowList(items=items))


@operation(
    bp,
    "GET",
    "/workflows/{name}",
    summary="One workflow definition",
    tag="workflows",
    scope=READ,
    query=s.WorkflowQuery,
    responses={200: s.WorkflowOut},
)
def get_workflow(name: str) -> Response:
    """The newest version of workflow ``name``, or ``version``; requests keep the version
    they were opened under."""
    query = query_args(s.WorkflowQuery)
    wfs = engines().workflows
    wf = wfs.get(name, query.version) if query.version else wfs.latest(name)
    return json_response(catalog.workflow(wf, lang()))


@operation(
    bp,
    "GET",
    "/authorities",
    summary="The directory of authorities",
    tag="directory",
    scope=READ,
    responses={200: s.AuthorityList},
)
def list_directory() -> Response:
    """Every authority: code (used wherever the API names an authority), country, name,
    kind, languages it accepts requests in, contact points."""
    items = [catalog.authority(a) for a in list_authorities(get_session())]
    return json_response(s.AuthorityList(items=items))


@operation(
    bp,
    "GET",
    "/treaties",
    summary="The bilateral treaties",
    tag="directory",
    scope=READ,
    responses={200: s.TreatyList},
)
def list_treaty_directory() -> Response:
    """Every bilateral treaty: its code (what a request on the ``bilateral`` basis names in
    its ``treaty`` field), the two states, and its deadline figures."""
    items = [catalog.treaty(t) for t in list_treaties(get_session())]
    return json_response(s.TreatyList(items=items))


# --- requests --------------------------------------------------------------------------------


def _status_response(
    svc: RequestService,
    request: Request | int,
    status_code: int = 200,
    *,
    version: int | None = None,
) -> Response:
    """The caller's view of a request, rendered once per version and served from the
    per-process cache after that. ``request`` may be just its id with its ``version``
    (a status read that found both by a narrow query): the row is then loaded only if the
    cache cannot answer."""
    who, language = actor(), lang()
    cache: StatusCache = current_app.extensions["mla.api.status_cache"]
    request_id = request if isinstance(request, int) else request.id
    if version is None:
        assert isinstance(request, Request)
        version = request.version_id
    key = (request_id, version, who.authority.id, str(who.role), language)
    hit = cache.get(key)
    if hit is None:
        if isinstance(request, int):
            request = svc.session.get_one(Request, request)
        now = svc.clock()
        current = status.status(svc, request, who, now, language)
        body = current.model_dump_json(by_alias=True).encode()
        tag = status.etag(current, body)
        running = [d.due_at for d in current.deadlines if d.status == "running"]
        cache.put(key, body, tag, now, running)
    else:
        body, tag = hit
    if http_request.method == "GET" and status.not_modified(
        http_request.headers.get("If-None-Match"), tag
    ):
        response = Response(status=304)
    else:
        response = Response(body, status=status_code, mimetype="application/json")
    response.headers["ETag"] = tag
    response.headers["Vary"] = "Accept-Language, Authorization"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@operation(
    bp,
    "POST",
    "/requests",
    summary="Submit a new request",
    tag="requests",
    scope=WRITE,
    body=rs.CreateRequest,
    examples=CREATE_REQUEST,
    responses={201: rs.RequestStatus},
    response_headers={**ETAG, "Location": "the new request's URL"},
)
def create_request() -> Response:
    """Open a request; the caller's authority is the requesting authority. It starts in the
    workflow's initial state (a draft): fire its events to transmit it. With
    ``requesting_authority`` naming an external authority (not on mla), the caller, its
    requested authority, records that authority's request as received instead
    (``received_on``, ``channel``): it starts with the requested side, its clocks counted
    from the day it arrived; attach the document received with
    ``POST /requests/{reference}/attachments``. 422 names each
    invalid or missing field.

    **Create and transmit** in one call: ``"transmit": true`` also takes the workflow's steps
    to the requested side (mla: ``submit_for_review``, ``sign``, ``transmit``), in the same
    transaction, each with the token's role: all or nothing. Signing is a supervisor's step,
    so a case system that sends requests this way needs a token its authority's admin issued
    with the supervisor role (``mla tokens create CODE --role supervisor``, or Administration →
    API tokens): a deliberate delegation of the signature, recorded with every step the token
    takes. With a clerk token the call is 403 and nothing is created; the case system then
    drafts, and a supervisor signs in the web UI."""
    given = json_body(rs.CreateRequest).model_dump()
    svc = request_service()
    # All or nothing: a refused step raises, and the operation rolls the creation back too.
    create = svc.create_and_transmit if given.pop("transmit") else svc.create
    request = create(actor(), **given)
    response = _status_response(svc, request, 201)
    response.headers["Location"] = url_for(".get_request", reference=request.reference)
    return response


@operation(
    bp,
    "GET",
    "/requests",
    summary="Requests the caller is party to",
    tag="requests",
    scope=READ,
    query=rs.RequestListQuery,
    responses={200: rs.RequestPage},
)
def list_requests() -> Response:
    """Newest change first, keyset-paginated: pass ``next_cursor`` as ``cursor`` for the next
    page; it is null on the last."""
    query = query_args(rs.RequestListQuery)
    after = status.parse_cursor(query.cursor) if query.cursor else None
    svc = request_service()
    rows = svc.search(
        actor(),
        state=query.state,
        kind=query.kind,
        updated_since=query.updated_since,
        after=after,
        limit=query.limit + 1,
    )
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return json_response(
        rs.RequestPage(
            items=[status.summary(svc, r, lang()) for r in page],
            next_cursor=status.cursor(page[-1]) if more else None,
        )
    )


@operation(
    bp,
    "GET",
    "/requests/{reference}",
    summary="Where a request stands",
    tag="requests",
    scope=READ,
    responses={200: rs.RequestStatus, 304: None},
    response_headers=ETAG,
    headers=(("If-None-Match", "an ETag from an earlier read: 304 if nothing changed"),),
)
def get_request(reference: str) -> Response:
    """State and its label, holder, open deadlines, history of state changes (who, when,
    from, to) and the events open to the caller's party, with their inputs. 404 for a
    request the caller's authority is not party to, whether or not it exists. Each read is
    recorded as a progress query (at most once per authority and request per hour)."""
    svc = request_service()
    who, now = actor(), utcnow()
    # Polling is the common case: one narrow, scoped query finds the id and version, and the
    # status cache answers without loading the request.
    request_id, version = svc.version_of(who, reference)
    response = _status_response(svc, request_id, version=version)
    recent: RecentReads = current_app.extensions["mla.api.recent_reads"]
    write = progress.record_due(svc.session, recent, request_id, who, now)
    if write is not None:
        after_commit(write)
    return response


@operation(
    bp,
    "POST",
    "/requests/{reference}/events",
    summary="Fire an event",
    tag="requests",
    scope=WRITE,
    body=rs.FireEvent,
    responses={200: rs.RequestStatus},
    response_headers=ETAG,
    headers=(("If-Match", "the ETag (or version) read: 409 if the request changed since"),),
)
def fire_event(reference: str) -> Response:
    """Take an action open to the caller's party now (see ``available_events``). 409 when
    it is not open in this state, a guard stops it (with the reason) or the request changed
    since the If-Match version; 403 when the caller's party or role may not; 422 for
    missing or invalid inputs. Inputs naming an authority take its code."""
    svc = request_service()
    # First: a non-party learns nothing from a 422. Read for the change: locked once.
    request = svc.get(actor(), reference, for_change=True)
    body = json_body(rs.FireEvent)
    expected = status.expected_version(http_request.headers.get("If-Match"), request.reference)
    svc.fire(
        request,
        body.event,
        actor(),
        body.inputs,
        comment=body.comment,
        expected_version=expected,
    )
    return _status_response(svc, request)
