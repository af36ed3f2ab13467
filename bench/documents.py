"""Time to write, sign and verify one three-page letter of request (es), and its size:
`.venv/bin/python bench/documents.py`. Figures, not a pass/fail test."""

import io
import tempfile
import time
from datetime import UTC, datetime

import pypdf

from mla.documents import catalog
from mla.documents.contents import _Blank
from mla.documents.layout import Header, Party, layout
from mla.documents.signing import SigningKeys, sign, verify

keys = SigningKeys(tempfile.mkdtemp() + "/signing")
t = time.perf_counter()
keys.create("ARG-DAJIN", "Dirección de Asistencia Jurídica Internacional", "AR")
tk = time.perf_counter() - t
p = {
    "name": "Dirección de Asistencia Jurídica Internacional",
    "code": "ARG-DAJIN",
    "state": "Argentina",
    "contacts": "mla@dajin.example.org",
}
q = {
    "name": "Fiscalía General de la República",
    "code": "MEX-FGR",
    "state": "México",
    "contacts": "",
}
f = _Blank(
    conducting_authority="Fiscalía Federal N.º 3",
    subject="Lavado de activos " * 20,
    facts="Transferencias " * 200,
    assistance_sought="Extractos " * 50,
    purpose="Acreditar el origen de los fondos.",
    language="español",
)
ctx = dict(
    requesting=p,
    requested=q,
    basis="UNTOC (Palermo), art. 18",
    treaty="",
    fields=f,
    urgent=True,
    needed_by="1 de junio de 2026",
    needed_by_reason="audiencia",
    confidential=True,
)
h = Header(
    Party(p["name"], "ARG-DAJIN", "Argentina", ["mla@dajin.example.org"]),
    Party(q["name"], "MEX-FGR", "México", []),
    "MLA-ARG-2026-00042",
    "FR-117",
    "2 de marzo de 2026",
    True,
    "es",
    datetime.now(UTC),
)
signer = keys.signer("ARG-DAJIN")
n = 20
w = s = v = 0.0
for _ in range(n):
    t0 = time.perf_counter()
    pdf = layout(catalog.render("letter_of_request", "es", ctx), h)
    t1 = time.perf_counter()
    signed = sign(pdf, signer, reason="x", location="AR")
    t2 = time.perf_counter()
    assert verify(signed).intact
    t3 = time.perf_counter()
    w += t1 - t0
    s += t2 - t1
    v += t3 - t2
print(f"key+certificate created in {tk * 1000:.0f} ms")
pages = len(pypdf.PdfReader(io.BytesIO(signed)).pages)
print(f"letter of request (es, {pages} pages): {len(signed) / 1024:.1f} KiB signed")
ms = {"write": w, "sign": s, "verify": v}
print(f"per letter, mean of {n}: " + ", ".join(f"{k} {t / n * 1000:.0f} ms" for k, t in ms.items()))
