"""Creating and finding authorities and users. Services flush; the caller commits."""

from __future__ import annotations

import functools
import secrets
import zoneinfo

import pycountry
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mla.authorities import sessions
from mla.authorities.models import Authority, AuthorityKind, Role, SessionEnd, User
from mla.db import utcnow
from mla.errors import N_, Conflict, FieldError, Invalid, NotAllowed, NotFound

MIN_PASSWORD_LENGTH = 12
LANGUAGES = ("en", "es", "fr", "pt")


@functools.cache
def _time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows, read once: reading them walks the zone
    database's whole folder (a few ms; seeding a test world did it thousands of times)."""
    return frozenset(zoneinfo.available_timezones())


def get_authority(session: Session, code: str) -> Authority:
    authority = session.scalar(select(Authority).where(Authority.code == code.upper()))
    if authority is None:
        raise NotFound(N_("unknown authority %(code)r"), {"code": code})
    return authority


def list_authorities(session: Session) -> list[Authority]:
    return list(session.scalars(select(Authority).order_by(Authority.country, Authority.code)))


def add_authority(
    session: Session,
    code: str,
    *,
    country: str,
    name: str,
    kind: AuthorityKind = AuthorityKind.CENTRAL,
    parent_code: str | None = None,
    languages: list[str] | None = None,
    timezone: str = "UTC",
    external: bool = False,
    contact_points: list[dict[str, str]] | None = None,
) -> Authority:
    """Add an authority to the directory.

    Raises Invalid naming the field for a malformed code, country, language or time zone,
    NotFound for an unknown parent, Conflict if the code is taken.
    """
    code = code.strip().upper()
    errors = []
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_" for c in code):
        errors.append(FieldError("code", N_("use up to 32 letters, digits, '-' or '_'")))
    if pycountry.countries.get(alpha_2=country.upper()) is None:
        errors.append(
            FieldError(
                "country", N_("%(country)r is not an ISO 3166 alpha-2 code"), {"country": country}
            )
        )
    if not name.strip():
        errors.append(FieldError("name", N_("is required"), code="required"))
    languages = languages or ["en"]
    for lang in languages:
        if pycountry.languages.get(alpha_2=lang) is None:
            errors.append(
                FieldError("languages", N_("%(lang)r is not an ISO 639-1 code"), {"lang": lang})
            )
    if timezone not in _time_zones():
        errors.append(
            FieldError(
                "timezone", N_("%(timezone)r is not an IANA time zone"), {"timezone": timezone}
            )
        )
    if errors:
        raise Invalid(errors)
    parent = get_authority(session, parent_code) if parent_code else None
    if kind == AuthorityKind.EXECUTING and parent is None:
        raise Invalid(
            FieldError("parent", N_("an executing authority needs its central authority"))
        )
    if session.scalar(select(Authority.id).where(Authority.code == code)) is not None:
        raise Conflict(N_("authority %(code)s already exists"), {"code": code})
    authority = Authority(
        code=code,
        country=country.upper(),
        name=name.strip(),
        kind=kind,
        parent=parent,
        languages=languages,
        timezone=timezone,
        external=external,
        contact_points=contact_points or [],
    )
    session.add(authority)
    session.flush()
    return authority


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            FieldError(
                "password",
                N_("must have at least %(MIN_PASSWORD_LENGTH)s characters"),
                {"MIN_PASSWORD_LENGTH": MIN_PASSWORD_LENGTH},
            )
        )
    if password.isdigit() or password.isalpha() or len(set(password)) < 5:
        raise Invalid(FieldError("password", N_("is too easy to guess: mix letters and digits")))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def add_user(
    session: Session,
    username: str,
    *,
    authority_code: str,
    role: Role | str,
    email: str,
    password: str,
    language: str = "en",
    managed_by: Authority | None = None,
) -> User:
    """Create a user of an authority. With ``managed_by`` (an admin in the UI), only of an
    authority it manages (see :func:`managed_authorities`): any other code is Invalid on field
    ``authority``. Raises Invalid (naming the field), NotFound, Conflict."""
    username = username.strip().lower()
    errors = []
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        errors.append(FieldError("username", N_("use up to 64 letters, digits, '.', '_' or '-'")))
    try:
        role = Role(role)
    except ValueError:
        errors.append(
            FieldError(
                "role", N_("must be one of %(items)s"), {"items": ", ".join(r.value for r in Role)}
            )
        )
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        errors.append(FieldError("email", str(exc)))
    if language not in LANGUAGES:
        errors.append(
            FieldError(
                "language", N_("must be one of %(LANGUAGES)s"), {"LANGUAGES": ", ".join(LANGUAGES)}
            )
        )
    if errors:
        raise Invalid(errors)
    check_password_strength(password)
    if managed_by is not None:
        managed = {a.code: a for a in managed_authorities(session, managed_by)}
        if authority_code.strip().upper() not in managed:
            raise Invalid(FieldError("authority", N_("choose one of the authorities you manage")))
    authority = get_authority(session, authority_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(N_("user %(username)s already exists"), {"username": username})
    user = User(
        username=username,
        authority=authority,
        role=Role(role),
        email=email,
        password_hash=hash_password(password),
        language=language,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(N_("unknown user %(username)r"), {"username": username})
    return user


def list_users(session: Session, authority: Authority | None = None) -> list[User]:
    """Users by name: of ``authority`` only, or (the operator's CLI) of all."""
    query = select(User).order_by(User.username)
    if authority is not None:
        query = query.where(User.authority_id == authority.id)
    return list(session.scalars(query))


# --- an authority's own administration ----------------------------------------------------

# Digits, spaces and the usual separators, an optional leading '+': enough to dial, nothing
# that could smuggle markup or a URL into the directory.
_PHONE_CHARS = set("0123456789 +-().")
CONTACT_KEYS = ("name", "email", "phone")


def _contact_errors(i: int, contact: dict[str, str]) -> tuple[dict[str, str], list[FieldError]]:
    prefix = f"contact_points.{i}"
    errors: list[FieldError] = []
    unknown = sorted(set(contact) - set(CONTACT_KEYS))
    if unknown:
        errors.append(FieldError(prefix, N_("unknown key %(unknown)r"), {"unknown": unknown[0]}))
    clean = {k: str(contact.get(k) or "").strip() for k in CONTACT_KEYS}
    if not clean["name"] or len(clean["name"]) > 200:
        errors.append(FieldError(f"{prefix}.name", N_("is required (at most 200 characters)")))
    if clean["email"]:
        try:
            clean["email"] = validate_email(clean["email"], check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors.append(FieldError(f"{prefix}.email", str(exc)))
    phone = clean["phone"]
    if phone and (
        not set(phone) <= _PHONE_CHARS
        or "+" in phone[1:]
        or not 6 <= sum(c.isdigit() for c in phone) <= 20
    ):
        errors.append(
            FieldError(f"{prefix}.phone", N_("use digits, spaces, '-', '(', ')', a leading '+'"))
        )
    if not clean["email"] and not phone:
        errors.append(FieldError(f"{prefix}.email", N_("give an e-mail address or a phone number")))
    return {k: v for k, v in clean.items() if v}, errors


def update_directory_entry(
    session: Session,
    authority: Authority,
    *,
    languages: list[str],
    contact_points: list[dict[str, str]],
) -> Authority:
    """Replace ``authority``'s accepted languages and contact points in the directory.

    ``languages``: ISO 639-1 codes, at least one (duplicates dropped, order kept).
    ``contact_points``: dicts with ``name`` and an ``email`` or a ``phone`` (or both).
    Raises Invalid naming each bad field: ``languages``, ``contact_points.<i>.<key>``.
    Flushes; the caller commits.
    """
    errors: list[FieldError] = []
    wanted: list[str] = []
    for code in languages:
        code = (code or "").strip().lower()
        if not code:
            continue
        if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
            errors.append(
                FieldError("languages", N_("%(code)r is not an ISO 639-1 code"), {"code": code})
            )
        elif code not in wanted:
            wanted.append(code)
    if not wanted and not errors:
        errors.append(FieldError("languages", N_("name at least one language")))
    contacts: list[dict[str, str]] = []
    for i, contact in enumerate(contact_points):
        clean, problems = _contact_errors(i, contact)
        contacts.append(clean)
        errors += problems
    if errors:
        raise Invalid(errors)
    # New lists, not edits in place: the JSON columns see a changed value and are written.
    authority.languages = wanted
    authority.contact_points = contacts
    session.flush()
    return authority


def managed_authorities(session: Session, authority: Authority) -> list[Authority]:
    """The authorities whose users ``authority``'s admins manage: itself and, for a central
    authority, the executing authorities under it in its own state (they often have no admin
    of their own). Never another state's."""
    children = session.scalars(
        select(Authority)
        .where(
            Authority.parent_id == authority.id,
            Authority.kind == AuthorityKind.EXECUTING,
            Authority.country == authority.country,
        )
        .order_by(Authority.code)
    )
    return [authority, *children]


def managed_users(session: Session, authority: Authority) -> list[User]:
    """The users of :func:`managed_authorities`, by authority (its own first) then name."""
    managed = managed_authorities(session, authority)
    order = {a.id: i for i, a in enumerate(managed)}
    users = session.scalars(select(User).where(User.authority_id.in_(order)))
    return sorted(users, key=lambda u: (order[u.authority_id], u.username))


def _colleague(session: Session, admin: User, user_id: int) -> User:
    user = session.get(User, user_id)
    managed = {a.id for a in managed_authorities(session, admin.authority)}
    if user is None or user.authority_id not in managed:
        raise NotFound(
            N_("no user %(user_id)s"), {"user_id": user_id}
        )  # another authority's user: as if absent
    return user


def set_role(session: Session, admin: User, user_id: int, role: Role | str) -> User:
    """Give user ``user_id`` of ``admin``'s authority the ``role``.

    Raises NotFound for a user of another authority (or none), Invalid (field ``role``) for an
    unknown role, NotAllowed when admins would demote themselves (an authority must never be
    left without someone able to administer it by a slip of the hand). Flushes.
    """
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(
            FieldError(
                "role", N_("must be one of %(items)s"), {"items": ", ".join(r.value for r in Role)}
            )
        ) from None
    user = _colleague(session, admin, user_id)
    if user.id == admin.id and role != user.role:
        raise NotAllowed(N_("you cannot change your own role; ask another administrator"))
    user.role = role
    session.flush()
    return user


def set_active(session: Session, admin: User, user_id: int, active: bool) -> User:
    """Deactivate (``active`` False) or reactivate user ``user_id`` of ``admin``'s authority.

    Deactivating ends every session of the user at once; reactivating revives none (they
    sign in again). Raises NotFound for a user of another authority, NotAllowed when admins
    would deactivate themselves. Flushes.
    """
    user = _colleague(session, admin, user_id)
    if user.id == admin.id and not active:
        raise NotAllowed(N_("you cannot deactivate your own account"))
    if user.active and not active:
        sessions.end_all(session, user, SessionEnd.DEACTIVATED, utcnow())
    user.active = active
    session.flush()
    return user


def set_password(session: Session, user: User, password: str, reason: SessionEnd) -> None:
    """Give ``user`` the new ``password`` and end every session they have.

    ``reason`` says who did it: ``PASSWORD_CHANGED`` (the user, who has proved the old one)
    or ``PASSWORD_RESET`` (an operator). Raises Invalid (field ``password``) for a weak
    password, changing nothing. Flushes.
    """
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    sessions.end_all(session, user, reason, utcnow())
    session.flush()


def reset_password(session: Session, admin: User, user_id: int) -> tuple[User, str]:
    """An admin resets the password of user ``user_id`` of an authority it manages (see
    :func:`managed_authorities`); returns the user and a one-time password to hand over.

    Guarantees: only the one-time password's scrypt hash is stored; every session of the
    user ends; at their next sign-in the user must choose a new password before anything
    else. Raises NotFound for a user the admin does not manage, NotAllowed for the admin's
    own account (they change it on their account page, proving the current one). Flushes.
    """
    user = _colleague(session, admin, user_id)
    if user.id == admin.id:
        raise NotAllowed(N_("change your own password on your account page"))
    # Letters and digits in four groups: easy to read out over the phone, 100 bits strong.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    temporary = "-".join(groups)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    sessions.end_all(session, user, SessionEnd.PASSWORD_RESET, utcnow())
    session.flush()
    return user, temporary
