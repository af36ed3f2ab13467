"""Authorities' signing keys and the PAdES signatures on the documents they issue.

Each authority's key and certificate chain live in one PEM file, ``<CODE>.pem``, mode 0600,
in the signing folder (``MLA_SIGNING_DIR``, by default ``<instance>/signing``), kept like the
evidence keyring: never in the database, in clear or otherwise. The file holds the private key
(PKCS#8) followed by the signer's certificate and any intermediate certificates of the state's
PKI. A key is either self-issued here (:meth:`SigningKeys.create`) or imported from the
state's PKI as PKCS#12 (:meth:`SigningKeys.import_p12`).

Signatures are PAdES baseline B-B (``ETSI.CAdES.detached``, SHA-256) made with pyHanko; the
same library's validator checks them (:func:`verify`), as any PAdES validator can.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from mla.errors import N_, ConfigError, Conflict, Invalid, Message, NotFound

# pyHanko logs, with a traceback, every certificate it cannot chain to a trusted root (each
# self-issued one); the verdict reports that as ``trusted``, so the log would only repeat it.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.ERROR)

_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
SELF_ISSUED_YEARS = 5
FIELD_NAME = "MLASignature"


@dataclass(frozen=True)
class CertificateInfo:
    """What may be shown about an authority's signing certificate."""

    code: str
    subject: str
    issuer: str
    not_after: datetime
    self_issued: bool
    sha256: str  # fingerprint of the certificate


def _info(code: str, cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        code=code,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        self_issued=cert.subject == cert.issuer,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )


def _upper_bound(name: str) -> str:
    """``name`` cut to X.509's upper bound for a common or organisation name, 64, counted
    (as cryptography counts it) in UTF-8 bytes, never inside a character: an accented
    name of 64 characters is longer than that."""
    return name.encode()[:64].decode(errors="ignore")


class SigningKeys:
    """The folder of signing keys. Opening it creates the folder (0700) if missing."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _path(self, code: str) -> Path:
        if not _CODE_RE.fullmatch(code):
            raise Invalid(Message(N_("%(code)r is not an authority code"), {"code": code[:40]}))
        return self.folder / f"{code.upper()}.pem"

    def _error(self, path: Path, message: str) -> ConfigError:
        return ConfigError(f"signing key {path}: {message}")

    def _read(self, code: str) -> bytes:
        """The PEM file of ``code``; NotFound if there is none; ConfigError if another
        user may read it."""
        path = self._path(code)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound(N_("no signing key for %(code)s"), {"code": code.upper()}) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise self._error(path, "is not a regular file")
            if st.st_mode & 0o077:
                mode = stat.S_IMODE(st.st_mode)
                raise self._error(path, f"has mode {mode:04o}; it must be 0600 (chmod 600)")
            with os.fdopen(os.dup(fd), "rb") as f:
                return f.read()
        finally:
            os.close(fd)

    def _publish(self, code: str, pem: bytes, *, replace: bool) -> None:
        """Write ``pem`` as ``code``'s file durably (temp 0600, fsync, link or rename);
        Conflict if it exists and not ``replace``."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(code)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    raise Conflict(
                        N_("%(code)s already has a signing key; pass --replace to replace it"),
                        {"code": code.upper()},
                    ) from None
                os.unlink(tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    @staticmethod
    def _pem(key: PrivateKeyTypes, chain: list[x509.Certificate]) -> bytes:
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return bytes(private) + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)

    def create(
        self, code: str, name: str, country: str, *, replace: bool = False
    ) -> CertificateInfo:
        """Generate a key (ECDSA P-256) and a certificate issued by the authority to itself
        (subject: ``name``, ``country``; valid for five years; digital signature and
        non-repudiation). Guarantees the file is written whole or not at all. Raises Conflict
        if the authority has a key and ``replace`` is false."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, _upper_bound(name)),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _upper_bound(name)),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code.upper()),
                x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()),
            ]
        )
        now = datetime.now(UTC)
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * SELF_ISSUED_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256())
        )
        self._publish(code, self._pem(key, [cert]), replace=replace)
        return _info(code.upper(), cert)

    def import_p12(
        self, code: str, data: bytes, password: bytes | None, *, replace: bool = False
    ) -> CertificateInfo:
        """Keep the key and certificate chain of a PKCS#12 file from the state's PKI.

        Raises Invalid if the file does not open with ``password``, holds no key or
        certificate, or its certificate is not valid now; Conflict as :meth:`create`."""
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            raise Invalid(
                Message(N_("the file is not PKCS#12, or the password does not open it"))
            ) from None
        if key is None or cert is None:
            raise Invalid(Message(N_("the PKCS#12 file holds no private key and certificate")))
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Invalid(
                Message(
                    N_(
                        "the certificate is valid from %(not_valid_before_utc)s to "
                        "%(not_valid_after_utc)s, not now"
                    ),
                    {
                        "not_valid_before_utc": format(cert.not_valid_before_utc, "%Y-%m-%d"),
                        "not_valid_after_utc": format(cert.not_valid_after_utc, "%Y-%m-%d"),
                    },
                )
            )
        self._publish(code, self._pem(key, [cert, *extra]), replace=replace)
        return _info(code.upper(), cert)

    def exists(self, code: str) -> bool:
        """Whether ``code`` has a signing key here."""
        return self._path(code).exists()

    def info(self, code: str) -> CertificateInfo:
        """The certificate of ``code``; NotFound if it has no key."""
        return _info(code.upper(), x509.load_pem_x509_certificates(self._read(code))[0])

    def infos(self) -> list[CertificateInfo]:
        """Every authority's certificate, by code."""
        if not self.folder.is_dir():
            return []
        return [self.info(p.stem) for p in sorted(self.folder.glob("*.pem"))]

    def signer(self, code: str) -> signers.SimpleSigner:
        """A pyHanko signer with ``code``'s key and chain; NotFound if it has none."""
        pem = self._read(code)
        certs = list(load_certs_from_pemder_data(pem))
        if not certs:
            raise self._error(self._path(code), "holds no certificate")
        return signers.SimpleSigner(
            signing_cert=certs[0],
            signing_key=load_private_key_from_pemder_data(pem, None),
            cert_registry=SimpleCertificateStore.from_certs(certs[1:]),  # type: ignore[no-untyped-call]
        )

    def certificates(self) -> list[asn1_x509.Certificate]:
        """Every certificate held here (signers and their chains): the trust anchors for
        documents issued on this installation."""
        if not self.folder.is_dir():
            return []
        found: list[asn1_x509.Certificate] = []
        for path in sorted(self.folder.glob("*.pem")):
            found.extend(load_certs_from_pemder_data(self._read(path.stem)))
        return found


def sign(pdf: bytes, signer: signers.SimpleSigner, *, reason: str, location: str) -> bytes:
    """``pdf`` signed (PAdES B-B, SHA-256) by ``signer``, as an incremental update."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return bytes(out.getvalue())


@dataclass(frozen=True)
class Verdict:
    """What a signature check found. ``intact``: not a byte of the signed range changed and
    the signature covers the whole file (nothing appended after signing)."""

    signer: str
    signed_at: datetime | None
    intact: bool
    valid: bool  # the cryptographic signature checks
    trusted: bool  # the certificate chains to one held here
    problem: str | None = None


def verify(data: bytes, trust: list[asn1_x509.Certificate] | None = None) -> Verdict:
    """Check the (last) signature of the PDF ``data`` with pyHanko's PAdES validator.

    Never raises for a damaged or unsigned file: the verdict says it is not intact."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
        if not embedded:
            return Verdict("", None, False, False, False, "the file holds no signature")
        status = validate_pdf_signature(
            embedded[-1],
            ValidationContext(trust_roots=trust or [], allow_fetching=False),
        )
    except Exception as exc:  # a damaged file fails in many ways inside the PDF parser
        return Verdict("", None, False, False, False, f"cannot be read: {exc}"[:300])
    entire = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    problem = None
    if not status.intact:
        problem = "its contents changed since it was signed (the digest does not match)"
    elif not status.valid:
        problem = "the signature does not verify with the signer's certificate"
    elif not entire:
        problem = "something was added to the file after it was signed"
    return Verdict(
        signer=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        intact=bool(status.intact) and entire,
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        problem=problem,
    )
