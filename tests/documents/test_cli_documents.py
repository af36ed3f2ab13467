"""``mla keys signing`` and ``mla documents verify``: keys kept in 0600 files, a PKCS#12
from the state's PKI imported, and a changed byte reported with exit status 1."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID
from fpdf import FPDF

from mla.cli import cli
from mla.documents.signing import SigningKeys, sign, verify


@pytest.fixture
def mla(migrated_database_url: str, tmp_path: Path):
    runner = CliRunner()
    env = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
    }

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    assert run("init").exit_code == 0
    added = run(
        "authorities", "add", "ARG-DAJIN", "--country", "AR",
        "--name", "Dirección de Asistencia Jurídica Internacional",
        "--languages", "es,en", "--timezone", "America/Argentina/Buenos_Aires",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    return run


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "MLA-ARG-2026-00042")
    return bytes(pdf.output())


def _p12(path: Path, password: bytes) -> None:
    """A key and a certificate issued by a (test) state CA, as a PKI hands them out."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC Raíz de la República")])
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DAJIN firma de documentos")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"dajin", key, cert, None, BestAvailableEncryption(password)
        )
    )


def test_create_keeps_the_key_in_a_0600_file_and_verify_trusts_it(mla, tmp_path):
    created = mla("keys", "signing", "create", "arg-dajin")
    assert created.exit_code == 0, created.output
    assert "ARG-DAJIN" in created.output and "self-issued" in created.output
    folder = tmp_path / "instance" / "signing"
    key_file = folder / "ARG-DAJIN.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    again = mla("keys", "signing", "create", "ARG-DAJIN")
    assert again.exit_code == 1 and "--replace" in again.stderr

    signed = tmp_path / "letter.pdf"
    signed.write_bytes(
        sign(_pdf(), SigningKeys(folder).signer("ARG-DAJIN"), reason="t", location="AR")
    )
    ok = mla("documents", "verify", str(signed))
    assert ok.exit_code == 0, ok.output
    assert "signed by: " in ok.output and "Dirección de Asistencia" in ok.output
    assert "intact: yes" in ok.output and "trusted: yes" in ok.output

    data = signed.read_bytes()
    # A byte of the page, of the signature dictionary, of the final cross-reference.
    for at in (len(data) // 4, data.index(b"/ByteRange") + 12, len(data) - 30):
        flipped = bytearray(data)
        flipped[at] ^= 0x01
        changed = tmp_path / f"changed-{at}.pdf"
        changed.write_bytes(bytes(flipped))
        result = mla("documents", "verify", str(changed))
        assert result.exit_code == 1, (at, result.output)
        assert "not intact" in result.stderr
        assert not verify(bytes(flipped)).intact


def test_import_a_pkcs12_from_the_state_pki(mla, tmp_path):
    p12 = tmp_path / "dajin.p12"
    _p12(p12, b"s3cret-pin")
    wrong = mla(
        "keys", "signing", "import", "ARG-DAJIN", str(p12), "--password-stdin", input="no\n"
    )
    assert wrong.exit_code == 1 and "password" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    done = mla(
        "keys", "signing", "import", "ARG-DAJIN", str(p12), "--password-stdin", input="s3cret-pin\n"
    )
    assert done.exit_code == 0, done.output
    assert "issued by CN=AC Raíz de la República" in done.output
    listed = mla("keys", "signing", "list")
    assert "ARG-DAJIN" in listed.output and "DAJIN firma de documentos" in listed.output
    pem = (tmp_path / "instance" / "signing" / "ARG-DAJIN.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    unknown = mla("keys", "signing", "create", "NOPE")
    assert unknown.exit_code == 1


def test_a_long_accented_authority_name_fits_its_certificate(tmp_path):
    # The demo's Argentine authority: 121 characters, accents past the 64th byte. Cut at
    # 64 characters it was 66 bytes, which X.509 refuses, and every transmission failed.
    name = (
        "Dirección de Asistencia Jurídica Internacional, Ministerio de Relaciones "
        "Exteriores, Comercio Internacional y Culto"
    )
    keys = SigningKeys(tmp_path / "signing")
    info = keys.create("ARG-DAJIN", name, "AR")
    assert info.code == "ARG-DAJIN"
    assert "Dirección de Asistencia Jurídica Internacional" in info.subject
    verdict = verify(sign(_pdf(), keys.signer("ARG-DAJIN"), reason="t", location="AR"))
    assert verdict.intact and verdict.valid
