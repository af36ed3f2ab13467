"""Creating and finding authorities and users. Services flush; the caller commits."""

from __future__ import annotations

import zoneinfo

import pycountry
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.errors import Conflict, FieldError, Invalid, NotFound

MIN_PASSWORD_LENGTH = 12
LANGUAGES = ("en", "es", "fr", "pt")


def get_authority(session: Session, code: str) -> Authority:
    authority = session.scalar(select(Authority).where(Authority.code == code.upper()))
    if authority is None:
        raise NotFound(f"unknown authority {code!r}")
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
        errors.append(FieldError("code", "use up to 32 letters, digits, '-' or '_'"))
    if pycountry.countries.get(alpha_2=country.upper()) is None:
        errors.append(FieldError("country", f"{country!r} is not an ISO 3166 alpha-2 code"))
    if not name.strip():
        errors.append(FieldError("name", "is required"))
    languages = languages or ["en"]
    for lang in languages:
        if pycountry.languages.get(alpha_2=lang) is None:
            errors.append(FieldError("languages", f"{lang!r} is not an ISO 639-1 code"))
    if timezone not in zoneinfo.available_timezones():
        errors.append(FieldError("timezone", f"{timezone!r} is not an IANA time zone"))
    if errors:
        raise Invalid(errors)
    parent = get_authority(session, parent_code) if parent_code else None
    if kind == AuthorityKind.EXECUTING and parent is None:
        raise Invalid(FieldError("parent", "an executing authority needs its central authority"))
    if session.scalar(select(Authority.id).where(Authority.code == code)) is not None:
        raise Conflict(f"authority {code} already exists")
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
            FieldError("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
        )
    if password.isdigit() or password.isalpha() or len(set(password)) < 5:
        raise Invalid(FieldError("password", "is too easy to guess: mix letters and digits"))


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
) -> User:
    """Create a user of an authority. Raises Invalid (naming the field), NotFound, Conflict."""
    username = username.strip().lower()
    errors = []
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        errors.append(FieldError("username", "use up to 64 letters, digits, '.', '_' or '-'"))
    try:
        role = Role(role)
    except ValueError:
        errors.append(FieldError("role", f"must be one of {', '.join(r.value for r in Role)}"))
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        errors.append(FieldError("email", str(exc)))
    if language not in LANGUAGES:
        errors.append(FieldError("language", f"must be one of {', '.join(LANGUAGES)}"))
    if errors:
        raise Invalid(errors)
    check_password_strength(password)
    authority = get_authority(session, authority_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username} already exists")
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
        raise NotFound(f"unknown user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))
