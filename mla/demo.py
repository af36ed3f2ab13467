"""Demo data: real central authorities of OAS member states, their users, and requests.

Seeding is idempotent: what exists (by code, username or their reference) is left alone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.authorities import service as authorities
from mla.authorities.models import Authority, AuthorityKind, User

# Demo data only: every demo user shares this password, printed with the logins.
DEMO_PASSWORD = "demo-mla-2026"  # noqa: S105

CENTRAL = [
    # code, country, name, languages, time zone, external
    (
        "ARG-DAJIN",
        "AR",
        "Dirección de Asistencia Jurídica Internacional, Ministerio de Relaciones "
        "Exteriores, Comercio Internacional y Culto",
        ["es"],
        "America/Argentina/Buenos_Aires",
        False,
    ),
    (
        "BRA-DRCI",
        "BR",
        "Departamento de Recuperação de Ativos e Cooperação Jurídica Internacional, "
        "Ministério da Justiça e Segurança Pública",
        ["pt", "es", "en"],
        "America/Sao_Paulo",
        False,
    ),
    (
        "MEX-FGR",
        "MX",
        "Fiscalía General de la República, Dirección General de Procedimientos Internacionales",
        ["es"],
        "America/Mexico_City",
        False,
    ),
    (
        "COL-FGN",
        "CO",
        "Fiscalía General de la Nación, Dirección de Asuntos Internacionales",
        ["es"],
        "America/Bogota",
        False,
    ),
    (
        "CHL-FN",
        "CL",
        "Fiscalía Nacional del Ministerio Público, Unidad de Cooperación Internacional "
        "y Extradiciones",
        ["es"],
        "America/Santiago",
        False,
    ),
    (
        "USA-OIA",
        "US",
        "Office of International Affairs, Criminal Division, U.S. Department of Justice",
        ["en", "es"],
        "America/New_York",
        False,
    ),
    (
        "CAN-IAG",
        "CA",
        "International Assistance Group, Department of Justice Canada",
        ["en", "fr"],
        "America/Toronto",
        False,
    ),
    (
        "PER-UCJIE",
        "PE",
        "Unidad de Cooperación Judicial Internacional y Extradiciones, Fiscalía de la Nación",
        ["es"],
        "America/Lima",
        True,
    ),
]

EXECUTING = [
    # code, parent, name
    (
        "ARG-JFED5",
        "ARG-DAJIN",
        "Juzgado Nacional en lo Criminal y Correccional Federal N.º 5, Buenos Aires",
    ),
    ("BRA-PF", "BRA-DRCI", "Polícia Federal, Diretoria de Investigação e Combate ao Crime"),
    ("MEX-FEMDO", "MEX-FGR", "Fiscalía Especializada en Materia de Delincuencia Organizada"),
    ("COL-DECLA", "COL-FGN", "Dirección Especializada contra el Lavado de Activos"),
    ("USA-SDNY", "USA-OIA", "U.S. Attorney's Office for the Southern District of New York"),
]


def _ensure_authorities(session: Session) -> None:
    existing = set(session.scalars(select(Authority.code)))
    for code, country, name, languages, tz, external in CENTRAL:
        if code not in existing:
            authorities.add_authority(
                session,
                code,
                country=country,
                name=name,
                languages=languages,
                timezone=tz,
                external=external,
                contact_points=[
                    {
                        "name": "Mesa de entradas" if "es" in languages else "Registry",
                        "email": f"mla@{code.lower()}.example.org",
                    }
                ],
            )
    for code, parent, name in EXECUTING:
        if code not in existing:
            central = authorities.get_authority(session, parent)
            authorities.add_authority(
                session,
                code,
                country=central.country,
                name=name,
                kind=AuthorityKind.EXECUTING,
                parent_code=parent,
                languages=central.languages,
                timezone=central.timezone,
            )


def _ensure_users(session: Session) -> list[tuple[str, str, str]]:
    existing = set(session.scalars(select(User.username)))
    logins = []
    wanted: list[tuple[str, str, str, str]] = []
    for code, _country, _name, languages, _tz, external in CENTRAL:
        if external:
            continue
        prefix = code.split("-")[0].lower()
        lang = next((x for x in languages if x in authorities.LANGUAGES), "en")
        for role in ("clerk", "supervisor", "admin"):
            wanted.append((f"{prefix}.{role}", code, role, lang))
    for code, parent, _name in EXECUTING:
        lang = "pt" if parent.startswith("BRA") else "en" if parent.startswith("USA") else "es"
        wanted.append((f"{code.lower()}.clerk", code, "clerk", lang))
    for username, code, role, lang in wanted:
        if username not in existing:
            authorities.add_user(
                session,
                username,
                authority_code=code,
                role=role,
                email=f"{username}@{code.lower()}.example.org",
                password=DEMO_PASSWORD,
                language=lang,
            )
        logins.append((username, DEMO_PASSWORD, code))
    return logins


def seed(session: Session) -> list[tuple[str, str, str]]:
    """Create what is missing of the demo data; return (username, password, authority)."""
    _ensure_authorities(session)
    return _ensure_users(session)
