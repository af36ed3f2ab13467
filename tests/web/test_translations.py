"""The Babel catalogs cover every UI string and every service message (``N_``), and the
shipped .mo files match the .po files."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "mla" / "translations"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _read(reader, path: Path):
    with path.open("rb") as f:
        return reader(f)


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _ui_strings() -> set[str]:
    found = set()
    # All of mla: the services' messages (N_) are rendered in the reader's language too.
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT / "mla"), METHODS, keywords={"_": None, "_l": None, "N_": None, "gettext": None}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("lang", ["es", "fr", "pt"])
def test_every_ui_string_is_translated(lang):
    po = _read(read_po, TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")
    translated = {
        (m.id[0] if isinstance(m.id, tuple | list) else m.id)
        for m in po
        if m.id
        and (all(m.string) if isinstance(m.string, tuple | list) else m.string)
        and not m.fuzzy
    }
    missing = _ui_strings() - translated
    assert not missing, f"{lang}: untranslated (run pybabel extract/update, see README): {missing}"


@pytest.mark.parametrize("lang", ["es", "fr", "pt"])
def test_compiled_catalogs_are_up_to_date(lang):
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    po = {_key(m.id): _key(m.string) for m in _read(read_po, folder / "messages.po") if m.id}
    mo = {_key(m.id): _key(m.string) for m in _read(read_mo, folder / "messages.mo") if m.id}
    assert po == mo, f"{lang}: run `pybabel compile -d mla/translations`"


def test_pages_and_workflow_labels_in_each_language(client, world, received, login, session):
    from tests.web.conftest import csrf

    login(world.mex_clerk)
    for lang, words in {
        "es": ("Panel", "Recibida", "Acusar recibo"),
        "fr": ("Tableau de bord", "Reçue", "Accuser réception"),
        "pt": ("Painel", "Recebida", "Acusar a receção"),
    }.items():
        client.post("/language", data={"language": lang, "csrf_token": csrf(client, "/")})
        page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
        for word in words:
            assert word in page, (lang, word)
