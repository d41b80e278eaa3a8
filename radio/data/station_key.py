"""The station's key: an Ed25519 key pair that signs the programme bundles it exports (#17).

Made on first use as ``station_key`` in the data folder (PKCS#8 PEM, mode 0600, like
``secret_key``; backups carry it, so a restored archive signs as the same station). Only
the public half ever leaves the machine: on the About page, in every bundle, as text
``ed25519:<base64 of the 32 raw bytes>``. People compare keys by their fingerprint: the
first 16 bytes of the SHA-256 of the raw public key, in eight groups of four hex digits.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from radio.data.errors import Invalid
from radio.i18n import _

KEY_FILE = "station_key"
PREFIX = "ed25519:"
_NOT_HEX = re.compile(r"[^0-9a-f]")


class StationKeyError(Invalid):
    """A public key or signature that can't even be read."""


@dataclass(frozen=True)
class StationKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_text(self) -> str:
        return PREFIX + base64.b64encode(self.public_raw).decode()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_text)

    def sign(self, data: bytes) -> str:
        """The signature of ``data``, in base64."""
        return base64.b64encode(self.private.sign(data)).decode()


def station_key(home: str | Path) -> StationKey:
    """The data folder's key, made (atomically, owner-only) the first time it is asked for."""
    path = Path(home) / KEY_FILE
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise StationKeyError(_("{path} is not an Ed25519 station key.").format(path=path))
    return StationKey(loaded)


def _raw(public_text: str) -> bytes:
    text = public_text.strip()
    if not text.startswith(PREFIX):
        raise StationKeyError(_("A station key must start with {prefix}.").format(prefix=PREFIX))
    try:
        raw = base64.b64decode(text[len(PREFIX) :], validate=True)
    except ValueError as e:
        raise StationKeyError(_("The station key is not valid base64.")) from e
    if len(raw) != 32:
        raise StationKeyError(_("An Ed25519 station key is 32 bytes long."))
    return raw


def fingerprint(public_text: str) -> str:
    """ "1a2b 3c4d …": what people read aloud or compare with the other station's About page."""
    digest = hashlib.sha256(_raw(public_text)).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def same_fingerprint(given: str, public_text: str) -> bool:
    """Whether a fingerprint as someone typed it (any case, spaces or colons) names this key."""
    typed = _NOT_HEX.sub("", given.lower())
    return bool(typed) and typed == _NOT_HEX.sub("", fingerprint(public_text))


def verify(public_text: str, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is this key's signature of exactly these bytes."""
    try:
        sig = base64.b64decode(signature.strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(_raw(public_text)).verify(sig, data)
    except (ValueError, InvalidSignature):
        return False
    return True
