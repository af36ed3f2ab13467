"""Which formal documents exist, which step issues each, and their templates.

A template is data: ``templates/<document>.<lang>.yaml`` holds the title, the opening, the
sections (a heading and a body each) and the closing, every one Jinja text rendered in a
sandbox, so an authority can adapt the wording without touching code (``MLA_DOCUMENT_TEMPLATES``
names a folder whose files take precedence). ``templates/common.<lang>.yaml`` holds the words
the layout itself prints (references, page numbers, the signature line).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from mla.errors import N_, ConfigError, FieldError, Invalid, Message

LANGUAGES = ("en", "es", "fr", "pt")
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document: the party whose authority issues (and signs) it, the party it is
    addressed to, and the steps that issue it, per workflow. ``needs_step``: its contents
    come from the issuing step's inputs, so it exists only once such a step was taken."""

    name: str
    issuer: str
    recipient: str
    steps: dict[str, tuple[str, ...]]
    needs_step: bool = True

    def applies_to(self, kind: str) -> bool:
        return not self.steps or kind in self.steps


DOCUMENTS: dict[str, DocumentKind] = {
    d.name: d
    for d in (
        DocumentKind(
            "letter_of_request",
            "requesting",
            "requested",
            {"mla": ("transmit", "confirm_in_writing")},
            needs_step=False,
        ),
        DocumentKind(
            "provisional_arrest",
            "requesting",
            "requested",
            {"extradition": ("request_provisional_arrest", "renew_provisional_arrest")},
            needs_step=False,
        ),
        DocumentKind(
            "extradition_request",
            "requesting",
            "requested",
            {"extradition": ("transmit_formal_request",)},
            needs_step=False,
        ),
        DocumentKind(
            "acknowledgement",
            "requested",
            "requesting",
            {"mla": ("acknowledge",), "extradition": ("acknowledge",)},
        ),
        DocumentKind(
            "information_request",
            "requested",
            "requesting",
            {
                "mla": ("request_information",),
                "extradition": ("request_supplementary_information",),
            },
        ),
        DocumentKind(
            "refusal",
            "requested",
            "requesting",
            {
                "mla": ("refuse", "refuse_in_part", "accept_in_part"),
                "extradition": ("refuse", "refuse_and_refer", "refuse_provisional_arrest"),
            },
        ),
        DocumentKind("postponement", "requested", "requesting", {"mla": ("postpone",)}),
        DocumentKind("results", "requested", "requesting", {"mla": ("transmit_results",)}),
        # Issued on demand by any party, about one attachment.
        DocumentKind("custody", "", "", {}, needs_step=False),
    )
}


def issued_by_step(kind: str, event: str) -> list[DocumentKind]:
    """The documents that taking ``event`` on a request of workflow ``kind`` issues."""
    return [d for d in DOCUMENTS.values() if event in d.steps.get(kind, ())]


def document_kind(name: str) -> DocumentKind:
    """The document ``name``; Invalid (field ``document``) if there is none."""
    try:
        return DOCUMENTS[name]
    except KeyError:
        known = ", ".join(DOCUMENTS)
        message = Message(
            N_("unknown document %(name)r; one of %(known)s"), {"name": name[:40], "known": known}
        )
        raise Invalid(FieldError("document", message)) from None


def check_language(lang: str) -> str:
    """``lang`` if documents are written in it; Invalid (field ``lang``) otherwise."""
    if lang not in LANGUAGES:
        raise Invalid(
            FieldError(
                "lang",
                N_("documents are written in %(LANGUAGES)s"),
                {"LANGUAGES": ", ".join(LANGUAGES)},
            )
        )
    return lang


@dataclass(frozen=True)
class Section:
    heading: str
    body: str


@dataclass(frozen=True)
class Rendered:
    """A document's text, ready for the layout."""

    title: str
    opening: str
    sections: list[Section]
    closing: str
    words: dict[str, Any]  # common.<lang>.yaml


_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@functools.lru_cache(maxsize=128)
def _load(folder: str, name: str) -> dict[str, Any]:
    for base in (Path(folder), TEMPLATES) if folder else (TEMPLATES,):
        path = base / f"{name}.yaml"
        if path.is_file():
            with path.open(encoding="utf-8") as f:
                doc = yaml.safe_load(f)
            if not isinstance(doc, dict):
                raise ConfigError(f"document template {path}: not a mapping")
            return doc
    raise ConfigError(f"no document template {name}.yaml")


def _render(source: Any, context: dict[str, Any], where: str) -> str:
    try:
        return _ENV.from_string(str(source or "")).render(context).strip()
    except TemplateError as exc:
        raise ConfigError(f"document template {where}: {exc}") from None


def words(lang: str, folder: str = "") -> dict[str, Any]:
    """The words the layout prints in ``lang`` (``common.<lang>.yaml``)."""
    return _load(folder, f"common.{lang}")


def render(document: str, lang: str, context: dict[str, Any], folder: str = "") -> Rendered:
    """The text of ``document`` in ``lang`` from ``context``. Sections whose body comes out
    empty are left out. Raises ConfigError naming the template when it is malformed or uses
    a name the context lacks."""
    template = _load(folder, f"{document}.{lang}")
    shared = words(lang, folder)
    ctx = {**context, "t": shared}
    where = f"{document}.{lang}.yaml"
    sections = []
    for n, raw in enumerate(template.get("sections") or [], 1):
        if not isinstance(raw, dict):
            raise ConfigError(f"document template {where}: section {n} is not a mapping")
        body = _render(raw.get("body"), ctx, f"{where} section {n}")
        if body:
            sections.append(Section(_render(raw.get("heading"), ctx, where), body))
    return Rendered(
        title=_render(template.get("title"), ctx, where),
        opening=_render(template.get("opening"), ctx, where),
        sections=sections,
        closing=_render(template.get("closing"), ctx, where),
        words=shared,
    )
