"""A Spanish-speaking clerk reads a form's error and the request's history in Spanish."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import screenshot, sign_in


def _questions_form(page: Any) -> Any:
    form = page.locator('form[action$="/events/request_information"]')
    details = form.locator("xpath=..")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return form


def test_a_form_error_and_the_history_in_spanish(page, live):
    sign_in(page, live, "mex_clerk")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    page.get_by_role("button", name="Acusar recibo").click()
    page.wait_for_load_state()
    form = _questions_form(page)
    form.locator('[name="inputs.questions"]').fill("   ")  # blank: the browser lets it go
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    error = page.locator("#request_information-inputs-questions-error")
    assert error.is_visible() and "es obligatorio" in error.inner_text()
    screenshot(page, "20-form-error-es")
    form = _questions_form(page)
    form.locator('[name="inputs.questions"]').fill("¿Quién firmó el contrato?")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    history = page.locator("ol.timeline").inner_text()
    assert "Información necesaria: ¿Quién firmó el contrato?" in history
    assert "questions:" not in history
    screenshot(page, "21-history-es")
