"""Every document in every language, written from a request walked through its steps: its
text holds the references and the required contents, in that language only; its signature
holds, and is reported broken once a byte changes."""

from __future__ import annotations

import pytest
import yaml

from mla.documents import catalog
from mla.documents.signing import verify
from tests.documents.conftest import (
    EXTRADITION,
    POSTPONE_REASONS,
    QUESTIONS,
    REFUSAL_REASONS,
    USE_LIMITATION,
    text_of,
)
from tests.factories import MLA_FIELDS

GROUND = {  # essential_interests (Palermo 18.21(b)), as untoc-18 labels it
    "en": "Prejudice to sovereignty, security, ordre public or other essential interests",
    "es": "Menoscabo de la soberanía, la seguridad, el orden público u otros intereses",
    "fr": "Atteinte à la souveraineté, la sécurité, l'ordre public",
    "pt": "Prejuízo da soberania, segurança, ordem pública",
}
STATE = {"en": "Mexico", "es": "México", "fr": "Mexique", "pt": "México"}


def english_words(lang: str) -> set[str]:
    """Headings and titles of the English templates (static ones, without Jinja), and the
    layout's words that ``lang`` says otherwise: none may appear in a ``lang`` document."""
    same = {v for v in catalog.words(lang).values() if isinstance(v, str)}
    words: set[str] = set()
    for path in catalog.TEMPLATES.glob("*.en.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name.startswith("common."):
            words |= {v for v in doc.values() if isinstance(v, str) and len(v) > 4} - same
            continue
        words |= {s["heading"] for s in doc["sections"]}
        if "{" not in doc["title"]:
            words.add(doc["title"])
    return words - {"SHA-256"}


@pytest.mark.parametrize("lang", catalog.LANGUAGES)
def test_every_document_in_every_language(docs, walked, world, lang):
    arg, mex = world.actor(world.arg_clerk), world.actor(world.mex_clerk)
    refused, results, extradition = walked.refused, walked.results, walked.extradition
    expected = {
        ("letter_of_request", refused, arg): [
            MLA_FIELDS["subject"], MLA_FIELDS["facts"], MLA_FIELDS["assistance_sought"],
            MLA_FIELDS["purpose"], MLA_FIELDS["conducting_authority"], "18.24", "18.20",
        ],
        ("acknowledgement", refused, mex): [STATE[lang]],
        ("information_request", refused, mex): [QUESTIONS],
        ("postponement", refused, mex): [POSTPONE_REASONS, "2026"],
        ("refusal", refused, mex): [REFUSAL_REASONS, GROUND[lang]],
        ("results", results, mex): [USE_LIMITATION, "18.19", "18.20", "extractos.pdf"],
        ("provisional_arrest", extradition, arg): [
            EXTRADITION["person_description"], EXTRADITION["probable_location"],
            EXTRADITION["laws_violated"], EXTRADITION["warrant_or_judgment"], "60",
        ],
        ("extradition_request", extradition, arg): [
            EXTRADITION["laws_text"], EXTRADITION["identification"],
        ],
    }  # fmt: skip
    foreign = english_words(lang) if lang != "en" else set()
    for (document, request, actor), contents in expected.items():
        pdf = docs.render(request, actor, document, lang)
        text = text_of(pdf)
        assert request.reference in text, document
        for needed in contents:
            assert needed in text, (document, lang, needed)
        left = [w for w in foreign if w in text]
        assert not left, (document, lang, left)
        verdict = verify(pdf)
        assert verdict.intact and verdict.valid, (document, verdict)
    custody = text_of(
        docs.render(results, mex, "custody", lang, attachment_id=walked.attachment_id)
    )
    assert "extractos.pdf" in custody
    assert results.reference in custody and "FR-2026-117" in custody
    assert not [w for w in foreign if w in custody]
