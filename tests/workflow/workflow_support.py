"""Shared helpers of the workflow tests: paths, a plain request model, complete field sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Req:
    """What the engine needs of a persisted request, and nothing more."""

    state: str
    legal_basis: str = "untoc-18"
    kind: str = "mla"
    fields: dict[str, Any] = field(default_factory=dict)
    executing_authority_code: str | None = None
    requested_authority_code: str = "MEX-FGR"
    requested_languages: tuple[str, ...] = ()


MLA_FIELDS: dict[str, Any] = {
    "conducting_authority": "Fiscalía Especializada, Ciudad de México",
    "proceeding_type": "investigation",
    "subject": "Laundering of proceeds of drug trafficking",
    "assistance_types": ["records"],
    "facts": "Transfers through shell companies between 2023 and 2025.",
    "assistance_sought": "Account opening documents and statements for two accounts.",
    "purpose": "Evidence for trial",
    "language": "es",
}

EXTRADITION_FIELDS: dict[str, Any] = {
    "person_description": "Male, about 40, scar on left hand",
    "probable_location": "Guatemala City",
    "facts": "Armed robbery of a bank",
    "laws_violated": "Penal Code art. 251",
    "warrant_or_judgment": "Warrant 123/2026 of the Second Criminal Court",
    "undertaking": True,
    "channel": "interpol",
    "laws_text": "Art. 251: 6 to 15 years; limitation 20 years",
    "identification": "Photographs and fingerprints attached",
}
