"""The statistics page in a real browser, as a supervisor, in the four languages: the charts
(server-drawn SVG, no script) and their tables render, axe-core finds nothing serious, and a
screenshot of each is left in test-output/screenshots/."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_clerk_flows import axe_violations

TITLES = {
    "en": ("Statistics", "Trend of open requests", "Incoming open", "From {} to {}, "),
    "es": (
        "Estadísticas",
        "Evolución de las solicitudes abiertas",
        "Recibidas abiertas",
        "Del {} al {}, ",
    ),
    "fr": ("Statistiques", "Évolution des demandes ouvertes", "Reçues ouvertes", "Du {} au {}, "),
    "pt": ("Estatísticas", "Evolução dos pedidos abertos", "Recebidos abertos", "De {} a {}, "),
}


def test_statistics_page_in_four_languages(live, page):
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live, "mex_supervisor")
    for lang, (title, trend, column, period) in TITLES.items():
        if lang != "en":
            page.goto(f"{live.url}/")
            page.get_by_label(re.compile("Idioma|Langue|Language")).select_option(lang)
            page.locator("#language-select + button").click()
            page.wait_for_load_state()
        page.goto(f"{live.url}/statistics?period=2026-Q2")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").first.inner_text().startswith(title)
        # The period's first and last days, as a reader counts them.
        assert period.format("2026-04-01", "2026-06-30") in page.locator("main").inner_text()
        page.goto(f"{live.url}/statistics")
        # Every chart is an SVG with a text alternative, beside its data table.
        charts = page.locator("figure svg")
        assert charts.count() == 4
        for i in range(charts.count()):
            assert charts.nth(i).get_attribute("role") == "img"
            assert charts.nth(i).is_visible()
        assert page.get_by_role("heading", name=trend).is_visible()
        assert page.get_by_role("columnheader", name=column).first.is_visible()
        # The request MEX received twenty days ago is open and held by MEX.
        ageing = page.locator("section[aria-labelledby='h-ageing'] tbody tr").first
        assert ageing.locator("td").first.inner_text() == "MEX-FGR"
        assert axe_violations(page) == [], lang
        screenshot(page, f"10-statistics-{lang}")
    assert failed == []
    # Charts drawn by the server: nothing the Content Security Policy had to block. (The
    # browser's own favicon probe, a 404 outside the page's requests, is not ours to judge.)
    assert not [e for e in errors if "Content Security Policy" in e], errors
