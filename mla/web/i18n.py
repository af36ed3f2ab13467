"""Languages, time zones and the formatting of dates for people.

The UI language is the signed-in user's (``User.language``); before sign-in, the one chosen on
the sign-in page, else the browser's. Times are shown in the time zone of the user's
authority. Workflow labels come from the YAML definitions (``label(labels, lang)``), every other
string from the Babel catalogs in ``mla/translations``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time, get_date_format, get_datetime_format, get_time_format
from flask import Flask, g, request, session
from flask_babel import (
    Babel,
    format_date,
    format_decimal,
    format_timedelta,
    get_locale,
    gettext,
)

from mla.errors import FieldError, Message, MLAError, translator
from mla.workflow.model import LANGUAGES, label

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Each language named in itself: a person who cannot read the current language finds theirs.
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}


def select_locale() -> str:
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return str(user.language)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def select_timezone() -> str | None:
    user = g.get("user")
    return user.authority.timezone if user is not None else None


def lang() -> str:
    return str(get_locale() or "en")


def translate(template: str) -> str:
    """``template`` (an ``N_`` message id, or a workflow's :class:`~mla.errors.Label`) in the
    reader's language (see :func:`mla.errors.translator`)."""
    return translator(lambda t: str(gettext(t)), lang())(template)


def localize(value: str | Message | FieldError | MLAError | None) -> str:
    """A service's message in the reader's language: a :class:`Message`, a field's error or
    a domain error rendered from its template and parameters; any other text as it is."""
    if value is None:
        return ""
    if isinstance(value, Message | FieldError | MLAError):
        return value.render(translate)
    return str(value)


def _pattern(fmt: str, locale: Locale) -> str:
    """The locale's ``fmt`` date-and-time pattern with the year in four digits (CLDR's short
    date is ``M/d/yy`` in English: '12/7/26' reads as any century and, across borders, as
    any order)."""
    if fmt == "short":
        width: Literal["short", "medium"] = "short"
    elif fmt == "medium":
        width = "medium"
    else:
        return fmt
    date_part = re.sub(r"(?<!y)y{1,2}(?!y)", "y", get_date_format(width, locale).pattern)
    time_part = get_time_format(width, locale).pattern
    combined = str(get_datetime_format(width, locale))
    return combined.replace("{1}", date_part).replace("{0}", time_part)


def viewer_zone() -> str:
    """The time zone of the signed-in user's authority (UTC before sign-in)."""
    return select_timezone() or "UTC"


def when(value: datetime | None, fmt: str = "short", zone: str | None = None) -> str:
    """A UTC datetime in the user's locale, four-digit year, in ``zone`` (default: the
    viewer's authority's), with the zone named whenever it is not the viewer's — e.g. the
    other side's end of day: ``12/07/2026 23:59 (America/Bogota)``."""
    if not value:
        return ""
    locale = get_locale() or Locale.parse("en")
    viewer = viewer_zone()
    shown = zone or viewer
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = babel_format_datetime(
        value, _pattern(fmt, locale), tzinfo=ZoneInfo(shown), locale=locale
    )
    return text if shown == viewer else f"{text} ({shown})"


def authority_zone(request: Any, authority_id: int | None) -> str | None:
    """The time zone of the party to ``request`` with ``authority_id`` (a deadline's keeper),
    or None when none of its authorities has that id."""
    for a in (
        request.requesting_authority,
        request.requested_authority,
        request.executing_authority,
    ):
        if a is not None and a.id == authority_id:
            return str(a.timezone)
    return None


def day(value: date | str | None, fmt: str = "medium") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            return str(format_date(date.fromisoformat(value), fmt))
        except ValueError:
            return value
    return str(format_date(value, fmt))


def number(value: int) -> str:
    """``1,000`` or ``1.000``, as the user's language writes it."""
    return str(format_decimal(value))


def language_name(code: str) -> str:
    """The language ``code`` (ISO 639-1) named in the user's language; the code if unknown."""
    return str(get_locale().languages.get(code, code)) if get_locale() else code


def country_name(code: str) -> str:
    """The state ``code`` (ISO 3166-1 alpha-2) named in the user's language."""
    return str(get_locale().territories.get(code.upper(), code)) if get_locale() else code


def local_time(value: datetime, timezone: str) -> str:
    """The time of day at ``value`` on the wall clock of ``timezone``, in the user's locale."""
    return str(format_time(value, "short", tzinfo=ZoneInfo(timezone), locale=get_locale()))


def time_left(due: datetime, now: datetime) -> str:
    """'in 3 days' or '2 hours ago', in the user's language."""
    return str(format_timedelta(due - now, add_direction=True, threshold=1.1))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(TRANSLATIONS),
    )

    def wf_label(labels: Any) -> str:
        return label(labels, lang()) if labels else ""

    app.jinja_env.filters.update(
        when=when,
        day=day,
        label=wf_label,
        number=number,
        language_name=language_name,
        country_name=country_name,
        local_time=local_time,
        msg=localize,
    )
    app.jinja_env.globals.update(
        lang=lang,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        time_left=time_left,
        timedelta=timedelta,
        authority_zone=authority_zone,
    )
