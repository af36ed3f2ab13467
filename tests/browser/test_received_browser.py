"""In a real browser, in Spanish: Mexico's clerk records a request that Peru (not on mla) sent
by diplomatic note, then attaches the note on the request page.

Screenshots in test-output/screenshots/ (30-*)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mla.authorities import service as authorities
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_clerk_flows import axe_violations, state_line
from tests.factories import MLA_FIELDS


def test_a_clerk_records_a_request_received_by_diplomatic_note_in_spanish(page, live, tmp_path):
    from mla.db import get_session

    with live.app.app_context():
        authorities.add_authority(
            get_session(), "PER-UCJIE", country="PE", name="Unidad de Cooperación Judicial",
            languages=["es"], timezone="America/Lima", external=True,
        )  # fmt: skip
        get_session().commit()
    received_on = datetime.now(ZoneInfo("America/Mexico_City")).date() - timedelta(days=2)

    sign_in(page, live, "mex_clerk")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()
    page.get_by_role("link", name="Nueva solicitud").click()
    page.get_by_role(
        "link", name="Registrar una solicitud recibida: Asistencia jurídica mutua"
    ).click()
    assert (
        page.locator("h1")
        .inner_text()
        .startswith("Registrar una solicitud recibida de un Estado que no usa mla")
    )
    page.get_by_label("Autoridad central requirente").select_option("PER-UCJIE")
    page.get_by_label("Fecha de recepción").fill(received_on.isoformat())
    page.get_by_label("Recibida por").select_option(label="Nota diplomática")
    page.get_by_label("Base jurídica").select_option("untoc-18")
    page.get_by_label("Su número de expediente").fill("UCJIE-2026-118")
    for name in ("conducting_authority", "subject", "facts", "assistance_sought", "purpose"):
        page.locator(f'[name="{name}"]').fill(MLA_FIELDS[name])
    page.locator('[name="proceeding_type"]').select_option("investigation")
    page.locator("#language").fill("es")
    page.locator('input[name="assistance_types"][value="records"]').check()
    screenshot(page, "30-record-received-es")
    assert not axe_violations(page)

    page.get_by_role("button", name="Registrar como recibida").click()
    page.wait_for_url(re.compile(r".*/requests/MLA-PER-\d{4}-\d+#evidence$"))
    assert "Recibida" in state_line(page)
    assert "Adjunte el documento recibido" in page.locator(".flash.success").inner_text()
    history = page.locator("ol.timeline").inner_text()
    assert "mex_clerk (MEX-FGR) por cuenta de PER-UCJIE" in history
    assert "Registró la solicitud como recibida el" in history and "(Nota diplomática)" in history

    note = tmp_path / "nota-diplomatica-118.pdf"
    note.write_bytes(b"%PDF-1.4 Nota diplomatica 118\n" * 50)
    page.set_input_files("#evidence-file", str(note))
    page.get_by_role("button", name="Subir").click()
    page.get_by_role("link", name="nota-diplomatica-118.pdf").wait_for()
    screenshot(page, "31-received-request-es")
