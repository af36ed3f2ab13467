"""The texts people receive: e-mail and in-app messages rendered from ``templates/``.

A template ``<name>.<lang>.txt`` starts with a ``Subject:`` line; the rest is the plain-text
body. Texts are rendered when the outbox row is written, in the recipient's language (one of
the OAS languages, English otherwise), so a retry sends exactly what was first rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from mla.workflow.model import LANGUAGES

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=False,  # noqa: S701 - plain text, never HTML
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

# How each ladder recipient is named in the text of the message it receives.
RECIPIENT_NAMES: dict[str, dict[str, str]] = {
    "assignee": {"en": "assignee", "es": "responsable", "fr": "responsable", "pt": "responsável"},
    "clerks": {"en": "clerks", "es": "personal", "fr": "agents", "pt": "funcionários"},
    "supervisors": {"en": "supervisors", "es": "supervisión", "fr": "superviseurs",
                    "pt": "supervisores"},
    "admins": {"en": "head of authority", "es": "dirección", "fr": "direction", "pt": "direção"},
    "counterpart": {"en": "counterpart authority", "es": "autoridad contraparte",
                    "fr": "autorité homologue", "pt": "autoridade homóloga"},
}  # fmt: skip


def language(lang: str | None) -> str:
    """``lang`` if mla has texts in it, else English."""
    return lang if lang in LANGUAGES else "en"


def render(name: str, lang: str | None, **context: Any) -> tuple[str, str]:
    """``(subject, body)`` of template ``name`` in ``lang`` (English when unknown).

    Raises jinja2's UndefinedError when ``context`` lacks a variable the template uses.
    """
    text = _env.get_template(f"{name}.{language(lang)}.txt").render(**context)
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def recipient_names(roles: list[str], lang: str | None) -> str:
    lang = language(lang)
    return ", ".join(RECIPIENT_NAMES.get(r, {}).get(lang, r) for r in roles)
