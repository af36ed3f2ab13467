"""Languages, time zones and the formatting of dates for people.

The UI language is the signed-in user's (``User.language``); before sign-in, the one chosen on
the sign-in page, else the browser's. Times are shown in the time zone of the user's
authority. Workflow labels come from the YAML definitions (``label(labels, lang)``), every other
string from the Babel catalogs in ``mla/translations``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_babel import Babel, format_date, format_datetime, format_timedelta, get_locale, gettext

from mla.errors import FieldError, Message, MLAError
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
    """``template`` (an ``N_`` message id) in the reader's language; the empty id stays empty
    (gettext would answer the catalogue's header)."""
    return str(gettext(template)) if template else template


def localize(value: str | Message | FieldError | MLAError | None) -> str:
    """A service's message in the reader's language: a :class:`Message`, a field's error or
    a domain error rendered from its template and parameters; any other text as it is."""
    if value is None:
        return ""
    if isinstance(value, Message | FieldError | MLAError):
        return value.render(translate)
    return str(value)


def when(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC datetime in the user's locale and time zone."""
    return format_datetime(value, fmt) if value else ""


def day(value: date | str | None, fmt: str = "medium") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            return str(format_date(date.fromisoformat(value), fmt))
        except ValueError:
            return value
    return str(format_date(value, fmt))


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

    app.jinja_env.filters.update(when=when, day=day, label=wf_label, msg=localize)
    app.jinja_env.globals.update(
        lang=lang, LANGUAGE_NAMES=LANGUAGE_NAMES, time_left=time_left, timedelta=timedelta
    )
