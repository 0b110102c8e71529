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
import logging
import os
from pathlib import Path

import platformdirs
import sqlglot
from sqlglot import exp

from semantic_layer.errors import ConfigError

SECRET_ENV = "COCKPIT_SECRET_FILE"
SECRET_BYTES = 32
DIGITS = 10  # 40 bits: no collisions to expect below a million members, still unguessable
_BLOCK = 64  # SHA-256 block size: HMAC pads the key to it

log = logging.getLogger("cockpit")


def secret_path() -> Path:
    """`COCKPIT_SECRET_FILE`, else `<user config dir>/cockpit/pseudonym.key`."""
    explicit = os.environ.get(SECRET_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return platformdirs.user_config_path("cockpit") / "pseudonym.key"


def installation_secret(path: Path | None = None) -> bytes:
    """The installation's secret, created on first use (mode 0600, never overwritten).

    Two processes starting at once both end up with the same secret: creation is exclusive
    (O_EXCL) and the loser reads what the winner wrote. A file that cannot serve (a folder,
    too short, unreadable, uncreatable) is a `ConfigError` naming it and the way out; a key
    that others may read is said once, as a warning."""
    path = path or secret_path()
    data = _read_secret(path)
    if data is not None:
        return data
    secret = os.urandom(SECRET_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file where the folder should be, a read-only disk
        raise _secret_error("secret_uncreatable", path, detail=_reason(err)) from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: its secret is the one
        data = _read_secret(path)
        if data is None:
            raise _secret_error("secret_too_short", path, size=0) from None
        return data
    except OSError as err:
        raise _secret_error("secret_uncreatable", path, detail=_reason(err)) from None
    with os.fdopen(fd, "wb") as out:
        out.write(secret)
    return secret


def _read_secret(path: Path) -> bytes | None:
    """The secret in `path`; None if there is no file yet."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # not there (a file in its way: not yet)
        return None
    except IsADirectoryError:
        raise _secret_error("secret_is_folder", path) from None
    except OSError as err:
        if path.is_dir():  # Windows says "permission denied" for a folder
            raise _secret_error("secret_is_folder", path) from None
        raise _secret_error("secret_unreadable", path, detail=_reason(err)) from None
    if len(data) < SECRET_BYTES:
        # A short file is damaged, never topped up: pseudonyms already shown would change.
        raise _secret_error("secret_too_short", path, size=len(data))
    _warn_if_shared(path)
    return data[:SECRET_BYTES]


_WARNED: set[Path] = set()


def _warn_if_shared(path: Path) -> None:
    """Warn once per file when group or others may read the key: with it, anyone holding a
    list of candidate names can undo the masking."""
    if os.name == "nt" or path in _WARNED:
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return
    if mode & 0o077:
        _WARNED.add(path)
        log.warning(
            "假名密钥 %s 的权限是 %o，其他用户也能读取；请运行 chmod 600 %s / "
            "the pseudonym secret %s has mode %o, so other users can read it "
            "(and undo the masking); run chmod 600 %s",
            path,
            mode,
            path,
            path,
            mode,
            path,
        )


def _secret_error(code: str, path: Path, **params: object) -> ConfigError:
    """The error for a secret file that cannot serve, saying where its path came from."""
    explicit = bool(os.environ.get(SECRET_ENV))
    origin = SECRET_ENV if explicit else "the default location"
    origin_zh = SECRET_ENV if explicit else "默认位置"
    return ConfigError(code, path=str(path), origin=origin, origin_zh=origin_zh, **params)


def _reason(err: OSError) -> str:
    """An OS error as a few words: "Permission denied", "Read-only file system"."""
    return err.strerror or type(err).__name__


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
