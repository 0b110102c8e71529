"""Keyed pseudonyms for masked dimensions: HMAC-SHA256 under a per-installation secret.

A masked value must still group apart (each customer one row) yet never be recoverable. An
unkeyed hash (`md5(name)`) is not a mask: anyone with a list of candidate names hashes them
and reads the table back. So the pseudonym is `label-` + the first 10 hex digits of
HMAC-SHA256(secret, value), computed inside the database (the value never leaves it), with a
32-byte secret generated once per installation and kept in the user config directory with
mode 0600. The same secret gives the same pseudonyms across runs; the secret itself is never
logged, put in SQL error messages shown to users, or sent to an LLM (only its HMAC pads appear
in the statement, which the database runs and nobody else sees).

    customer_name  →  '客户-' || substr(HMAC(secret, customer_name), 1, 10)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs
import sqlglot
from sqlglot import exp

SECRET_ENV = "COCKPIT_SECRET_FILE"
SECRET_BYTES = 32
DIGITS = 10  # 40 bits: no collisions to expect below a million members, still unguessable
_BLOCK = 64  # SHA-256 block size: HMAC pads the key to it


def secret_path() -> Path:
    """`COCKPIT_SECRET_FILE`, else `<user config dir>/cockpit/pseudonym.key`."""
    explicit = os.environ.get(SECRET_ENV)
    if explicit:
        return Path(explicit)
    return platformdirs.user_config_path("cockpit") / "pseudonym.key"


def installation_secret(path: Path | None = None) -> bytes:
    """The installation's secret, created on first use (mode 0600, never overwritten).

    Two processes starting at once both end up with the same secret: creation is exclusive
    (O_EXCL) and the loser reads what the winner wrote."""
    path = path or secret_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if len(data) >= SECRET_BYTES:
        return data[:SECRET_BYTES]
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = os.urandom(SECRET_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) < SECRET_BYTES:
            raise OSError(
                f"{path}: the pseudonym secret is truncated; delete it to renew"
            ) from None
        return data[:SECRET_BYTES]
    with os.fdopen(fd, "wb") as out:
        out.write(secret)
    return secret


def _pads(secret: bytes) -> tuple[str, str]:
    """HMAC's inner and outer padded keys, hex-encoded (RFC 2104)."""
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    return inner.hex(), outer.hex()


# HMAC-SHA256 of a value as hex text, per SQL dialect ({value} is a column reference).
_HMAC_SQL = {
    "duckdb": "sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(CAST({value} AS VARCHAR)))))",
    "postgres": "encode(sha256(decode('{outer}', 'hex') || sha256(decode('{inner}', 'hex') || convert_to(CAST({value} AS TEXT), 'UTF8'))), 'hex')",
    "spark": "lower(sha2(concat(unhex('{outer}'), unhex(sha2(concat(unhex('{inner}'), encode(CAST({value} AS STRING), 'UTF-8')), 256))), 256))",
}


def pseudonym(column: str, label: str, secret: bytes, dialect: str = "duckdb") -> exp.Expression:
    """The SQL expression that replaces `column` by `label-<10 hex digits of its HMAC>`."""
    inner, outer = _pads(secret)
    template = _HMAC_SQL.get(dialect, _HMAC_SQL["duckdb"])
    read = dialect if dialect in _HMAC_SQL else "duckdb"
    # The column name is an identifier we render ourselves, never text from a question.
    value = exp.column(column).sql(dialect=read)
    digest = sqlglot.parse_one(template.format(inner=inner, outer=outer, value=value), read=read)
    return exp.DPipe(
        this=exp.Literal.string(f"{label}-"),
        expression=exp.Substring(
            this=digest, start=exp.Literal.number(1), length=exp.Literal.number(DIGITS)
        ),
    )


def pseudonym_of(value: object, label: str, secret: bytes) -> str:
    """The pseudonym `pseudonym()` computes in SQL, computed in Python (tests, documentation)."""
    import hmac

    digest = hmac.new(secret, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{label}-{digest[:DIGITS]}"
