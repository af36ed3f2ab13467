"""Demo data: real central authorities of OAS member states, their users, and requests.

Seeding is idempotent: what exists (by code, username or their reference) is left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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


def seed(session: Session, engines: Any, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Create what is missing of the demo data; return (username, password, authority)."""
    from mla.db import utcnow

    _ensure_authorities(session)
    logins = _ensure_users(session)
    session.flush()
    _ensure_requests(session, engines, now or utcnow())
    return logins


# --- requests -----------------------------------------------------------------------------

_MLA_BASE = {
    "proceeding_type": "investigation",
    "assistance_types": ["records"],
    "purpose": "Acreditar el origen ilícito de los fondos en el proceso penal.",
    "language": "es",
}

# (their reference, kind, requesting, requested, basis, days ago, fields, steps, urgency)
# A step is (event, inputs, days later). Each request is played through the request service
# with a clock that starts ``days ago``, so deadlines fall due (and some are overdue) today.
MLA_SCENARIOS: list[tuple[Any, ...]] = [
    (
        "DEMO-ARG-01",
        "mla",
        "ARG-DAJIN",
        "MEX-FGR",
        "untoc-18",
        1,
        {
            "conducting_authority": "Fiscalía Federal N.º 3 de Rosario",
            "subject": "Lavado de activos provenientes del narcotráfico",
            "facts": "Transferencias desde Rosario a cuentas en Monterrey entre 2023 y 2025.",
            "assistance_sought": "Extractos de las cuentas 0123456789 y 0987654321.",
        },
        [],
    ),
    (
        "DEMO-BRA-01",
        "mla",
        "BRA-DRCI",
        "ARG-DAJIN",
        "iacmamc",
        12,
        {
            "conducting_authority": "Ministério Público Federal, São Paulo",
            "subject": "Corrupção ativa em licitações de obras públicas",
            "facts": "Pagamentos a agentes públicos por empresas com sede em Buenos Aires.",
            "assistance_sought": "Cópia dos registros societários e bancários das empresas.",
            "language": "es",
        },
        [("submit_for_review", {}, 0), ("sign", {}, 1), ("transmit", {}, 1)],
    ),
    (
        "DEMO-USA-01",
        "mla",
        "USA-OIA",
        "MEX-FGR",
        "untoc-18",
        20,
        {
            "conducting_authority": "U.S. Attorney's Office, Southern District of Texas",
            "subject": "Trata de personas y explotación laboral",
            "facts": "Reclutamiento de trabajadores en Oaxaca con promesas falsas de empleo.",
            "assistance_sought": "Declaraciones testimoniales de tres víctimas en Oaxaca.",
            "assistance_types": ["evidence_statements"],
        },
        [
            ("submit_for_review", {}, 0),
            ("sign", {}, 0),
            ("transmit", {}, 1),
            ("acknowledge", {}, 2),
            ("request_information", {"questions": "Indiquen los domicilios de las víctimas."}, 3),
        ],
    ),
    (
        "DEMO-COL-01",
        "mla",
        "COL-FGN",
        "BRA-DRCI",
        "untoc-18",
        25,
        {
            "conducting_authority": "Fiscalía General de la Nación, Bogotá",
            "subject": "Tráfico de cocaína por vía marítima",
            "facts": "Envíos desde Buenaventura hacia el puerto de Santos en contenedores.",
            "assistance_sought": "Registro y examen de contenedores; informes de aduana.",
            "assistance_types": ["search_seizure_freezing", "examining_objects_sites"],
        },
        [
            ("submit_for_review", {}, 0),
            ("sign", {}, 0),
            ("transmit", {}, 1),
            ("acknowledge", {}, 2),
            ("pass_formal_review", {}, 4),
            (
                "open_consultation",
                {
                    "subject": "conditions",
                    "reasons": "La diligencia requiere orden judicial previa.",
                },
                5,
            ),
        ],
    ),
    (
        "DEMO-MEX-01",
        "mla",
        "MEX-FGR",
        "USA-OIA",
        "untoc-18",
        130,
        {
            "conducting_authority": "Fiscalía Especializada en Materia de Delincuencia Organizada",
            "subject": "Operaciones con recursos de procedencia ilícita",
            "facts": "Depósitos fraccionados en bancos de Texas vinculados a una célula delictiva.",
            "assistance_sought": "Registros bancarios y declaraciones de oficiales de cumplimiento",
        },
        [
            ("submit_for_review", {}, 0),
            ("sign", {}, 0),
            ("transmit", {}, 1),
            ("acknowledge", {}, 3),
            ("pass_formal_review", {}, 5),
            ("accept", {}, 5),
            ("assign", {"executing_authority": "USA-SDNY"}, 2),
            ("start_execution", {}, 3),
        ],
    ),
    (
        "DEMO-CHL-01",
        "mla",
        "CHL-FN",
        "ARG-DAJIN",
        "iacmamc",
        90,
        {
            "conducting_authority": "Fiscalía Regional de Magallanes",
            "subject": "Contrabando de mercaderías por paso fronterizo",
            "facts": "Ingreso irregular de mercaderías por el paso Integración Austral.",
            "assistance_sought": "Informes de la Dirección General de Aduanas argentina.",
        },
        [
            ("submit_for_review", {}, 0),
            ("sign", {}, 0),
            ("transmit", {}, 1),
            ("acknowledge", {}, 2),
            ("pass_formal_review", {}, 3),
            ("accept", {}, 4),
            ("assign", {"executing_authority": "ARG-JFED5"}, 1),
            ("start_execution", {}, 2),
            ("complete_execution", {}, 30),
            ("transmit_results", {"use_limitation": "Solo para la causa RUC 2500123456-7."}, 3),
            ("close", {}, 5),
        ],
    ),
    (
        "DEMO-CAN-01",
        "mla",
        "CAN-IAG",
        "COL-FGN",
        "untoc-18",
        60,
        {
            "conducting_authority": "Royal Canadian Mounted Police, Federal Policing",
            "subject": "Fraude en línea contra personas mayores",
            "facts": "Llamadas desde centros en Medellín a víctimas en Ontario.",
            "assistance_sought": "Allanamiento de los centros de llamadas e incautación de equipos",
            "assistance_types": ["search_seizure_freezing"],
        },
        [
            ("submit_for_review", {}, 0),
            ("sign", {}, 0),
            ("transmit", {}, 1),
            ("acknowledge", {}, 2),
            ("pass_formal_review", {}, 3),
            (
                "open_consultation",
                {
                    "subject": "possible_refusal",
                    "reasons": "La diligencia afectaría una investigación nacional en curso.",
                },
                5,
            ),
            (
                "refuse",
                {
                    "grounds": ["essential_interests"],
                    "reasons": "La ejecución comprometería una investigación nacional reservada.",
                },
                10,
            ),
        ],
    ),
    (
        "DEMO-ARG-02",
        "mla",
        "ARG-DAJIN",
        "BRA-DRCI",
        "untoc-18",
        40,
        {
            "conducting_authority": "Juzgado Federal de Paraná",
            "subject": "Evasión agravada mediante sociedades pantalla",
            "facts": "Facturación apócrifa de empresas radicadas en Porto Alegre.",
            "assistance_sought": "Registros societarios de cuatro empresas.",
            "language": "pt",
        },
        [
            ("submit_for_review", {}, 0),
            ("sign", {}, 0),
            ("transmit", {}, 1),
            (
                "withdraw",
                {"reasons": "El imputado fue sobreseído; la asistencia ya no es necesaria."},
                10,
            ),
        ],
    ),
    (
        "DEMO-PER-01",
        "mla",
        "PER-UCJIE",
        "MEX-FGR",
        "untoc-18",
        9,
        {
            "conducting_authority": "Fiscalía Anticorrupción de Lima",
            "subject": "Colusión agravada en contrataciones públicas",
            "facts": "Pagos a funcionarios de Lima desde cuentas en la Ciudad de México.",
            "assistance_sought": "Información bancaria de dos cuentas.",
        },
        [("submit_for_review", {}, 0), ("sign", {}, 0), ("transmit", {}, 1)],
    ),
]

EXTRADITION_SCENARIOS: list[tuple[Any, ...]] = [
    (
        "DEMO-USA-EXT-01",
        "extradition",
        "USA-OIA",
        "MEX-FGR",
        "iace",
        52,
        {
            "person_description": "Man, 41, 1.78 m, tattoo on the right forearm.",
            "probable_location": "Guadalajara, Jalisco",
            "facts": "Conspiracy to distribute fentanyl in Texas, 2024 to 2025.",
            "laws_violated": "21 U.S.C. 841 and 846",
            "warrant_or_judgment": "Arrest warrant, U.S. District Court, S.D. Texas",
            "undertaking": True,
            "channel": "central_authority",
            "laws_text": "21 U.S.C. 841: 10 years to life; limitation: 5 years.",
            "identification": "Photographs and fingerprints attached.",
        },
        [("request_provisional_arrest", {}, 0), ("record_arrest", {"arrest_date": -1}, 2)],
    ),
    (
        "DEMO-MEX-EXT-01",
        "extradition",
        "MEX-FGR",
        "COL-FGN",
        "untoc-16",
        70,
        {
            "person_description": "Mujer, 38 años, 1,62 m.",
            "probable_location": "Cali, Valle del Cauca",
            "facts": "Secuestro extorsivo en Puebla en marzo de 2025.",
            "laws_violated": "Ley General en Materia de Secuestro, art. 9",
            "warrant_or_judgment": "Orden de aprehensión del Juzgado de Control de Puebla",
            "laws_text": "Art. 9: prisión de 40 a 80 años; imprescriptible.",
            "identification": "Fotografías y huellas dactilares adjuntas.",
        },
        [("transmit_formal_request", {}, 0), ("acknowledge", {}, 3), ("refer_to_court", {}, 10)],
    ),
]


def _actor_for(request: Any, party: str, role: str) -> Any:
    from mla.authorities.models import Role
    from mla.requests.scope import RECORDED_BY, Actor, authority_of

    authority = authority_of(request, party)
    assert authority is not None, f"the demo assigns the {party} party before acting for it"
    if authority.external:
        # Not on mla: its counterpart central authority records the step for it.
        authority = authority_of(request, RECORDED_BY[party][0])
        assert authority is not None
    wanted = Role(role)
    users = [u for u in authority.users if u.role.includes(wanted)]
    users.sort(key=lambda u: [Role.CLERK, Role.SUPERVISOR, Role.ADMIN].index(u.role))
    return Actor.for_user(users[0])


def _ensure_requests(session: Session, engines: Any, now: datetime) -> None:
    from mla.requests.models import Request
    from mla.requests.service import RequestService

    class Clock:
        at = now

        def __call__(self) -> datetime:
            return self.at

    existing = set(session.scalars(select(Request.their_reference)))
    clock = Clock()
    service = RequestService(session, engines, clock=clock)
    for their_ref, kind, requesting, requested, basis, days_ago, fields, steps in (
        MLA_SCENARIOS + EXTRADITION_SCENARIOS
    ):
        if their_ref in existing:
            continue
        clock.at = now - timedelta(days=days_ago)
        values = {**_MLA_BASE, **fields} if kind == "mla" else dict(fields)
        # An external requesting authority's request is recorded by the requested one.
        external = authorities.get_authority(session, requesting).external
        creator = _actor_for_authority(session, requested if external else requesting)
        request = service.create(
            creator,
            kind=kind,
            requested_authority=requested,
            requesting_authority=requesting,
            legal_basis=basis,
            fields=values,
            their_reference=their_ref,
            urgency="urgent" if kind == "extradition" else "normal",
            # Recorded as received: it starts with the requested side.
            received_on=clock.at.date() if external else None,
            channel="diplomatic_note" if external else None,
        )
        engine = service.engine(request)
        for event, inputs, later in steps:
            clock.at += timedelta(days=later, hours=2)
            t = engine.transition(request.state, event)
            if t is None and external and request.state in (engine.workflow.intake_states()):
                continue  # a preparation step of the external state: it arrived prepared
            assert t is not None, f"demo: {event} is not open from {request.state}"
            values = {
                k: (clock.at.date() + timedelta(days=v)).isoformat() if isinstance(v, int) else v
                for k, v in inputs.items()
            }
            actor = _actor_for(request, t.by, t.min_role or "clerk")
            service.fire(request, event, actor, values)


def _actor_for_authority(session: Session, code: str) -> Any:
    from mla.requests.service import Actor

    authority = authorities.get_authority(session, code)
    clerk = next(u for u in authority.users if u.role.value == "clerk")
    return Actor.for_user(clerk)
