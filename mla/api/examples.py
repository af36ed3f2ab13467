"""Example bodies of ``POST /requests``, one per shipped workflow, for the OpenAPI document.

Each is a complete request a case system could send (the test suite creates and transmits
every one), so that ``fields`` shows real field names and values instead of a placeholder.
"""

from __future__ import annotations

from typing import Any

_PERSON = {
    "name": "Juan Pérez Gómez",
    "nationality": "AR",
    "location": "Ciudad de México",
    "role": "suspect",
}

CREATE_REQUEST: dict[str, dict[str, Any]] = {
    "mla": {
        "summary": "Mutual legal assistance: bank records (UNTOC Art. 18)",
        "value": {
            "kind": "mla",
            "requested_authority": "MEX-FGR",
            "legal_basis": "untoc-18",
            "their_reference": "FF3-0042/2026",
            "offence_categories": ["money_laundering", "drug_trafficking"],
            "fields": {
                "conducting_authority": "Fiscalía Federal N.º 3, Buenos Aires",
                "proceeding_type": "investigation",
                "subject": "Lavado de activos provenientes del narcotráfico",
                "assistance_types": ["records"],
                "facts": "Transferencias a cuentas en México entre 2023 y 2025.",
                "assistance_sought": "Extractos de la cuenta 0123456789 del Banco Ejemplo.",
                "purpose": "Acreditar el origen de los fondos.",
                "persons": [_PERSON],
                "language": "es",
            },
            "transmit": False,
        },
    },
    "extradition": {
        "summary": "Extradition: formal request (UNTOC Art. 16)",
        "value": {
            "kind": "extradition",
            "requested_authority": "MEX-FGR",
            "legal_basis": "untoc-16",
            "their_reference": "EXT-0007/2026",
            "offence_categories": ["trafficking_in_persons"],
            "fields": {
                "person_description": "Varón, 1,80 m, cicatriz en la mano izquierda.",
                "persons": [_PERSON],
                "facts": "Captación y traslado de víctimas entre 2024 y 2025.",
                "laws_violated": "Ley 26.364, art. 145 bis del Código Penal.",
                "warrant_or_judgment": "Orden de detención del Juzgado Federal N.º 2, 3/3/2026.",
                "laws_text": "Art. 145 bis: pena de 4 a 8 años de prisión.",
                "identification": "DNI 20.123.456; huellas dactilares adjuntas.",
            },
            "transmit": False,
        },
    },
    "assets": {
        "summary": "Assets: freezing of an account (UNTOC Arts. 12-14)",
        "value": {
            "kind": "assets",
            "requested_authority": "MEX-FGR",
            "legal_basis": "untoc-12-14",
            "their_reference": "DEC-0013/2026",
            "offence_categories": ["money_laundering"],
            "fields": {
                "conducting_authority": "Fiscalía Federal N.º 3, Buenos Aires",
                "facts": "Fondos del narcotráfico depositados en México en 2025.",
                "property_sought": "Saldo de la cuenta 0123456789 del Banco Ejemplo.",
                "persons": [_PERSON],
                "language": "es",
            },
            "transmit": False,
        },
    },
}
