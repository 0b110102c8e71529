"""Run SQL on Trino (or Starburst) over its DB-API client: the Spark engine's shape, for Trino.

    trino://analyst@trino.example.com:443/hive/sales            catalog `hive`, schema `sales`
    trino://analyst:secret@trino.example.com:443/hive/sales     with a password (HTTPS only)
    trino://cockpit@localhost:8080/memory/demo?http_scheme=http

Selected with `COCKPIT_ENGINE` / `--engine` like PostgreSQL and Spark (`pip install -e
'.[trino]'`). The same promises, kept the same way:

- **Only a query runs.** `execute` accepts one SELECT and nothing else, checked with sqlglot
  (`read_only_query`), and sends Trino sqlglot's rendering of what was checked. Trino has no
  read-only session switch, so give Cockpit's user read-only grants as well (file-based access
  control: `"allow": "read-only"` for its catalog) — the engine is the second wall, not the only.
- **A time limit per statement**: a timer cancels the query (`cursor.cancel()`), and Trino's
  own `query_max_run_time` session property stops it on the server if the client is gone.
- **Budgets and types** as on DuckDB: rows fetched in chunks against `max_result_bytes`;
  decimals as `Decimal`, dates as `date`, column types named as DuckDB names them.

No Trino server runs in this project's CI (there is no container engine on its machines), so
this module is checked for its URL handling and its refusals only; the statements it would run
are the dialect goldens (`tests/golden/trino.json`), generated from every eval question.
Masked dimensions need an HMAC template for Trino in `pseudonyms.py` (Trino's `sha256` returns
VARBINARY: `lower(to_hex(sha256(from_hex(…) || …)))`), which it does not have yet: roles with
masked dimensions are not for Trino until it does.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlglot import exp

from semantic_layer.engine import Result, ResultColumn, _Connected
from semantic_layer.errors import ExecutionError
from semantic_layer.spark import read_only_query

# Trino's parameterised types, by their DuckDB name: varchar(20) is VARCHAR, timestamp(3) is
# TIMESTAMP; decimal(18,2) keeps its precision and scale (DECIMAL(18,2)).
_PLAIN = {"varchar": "VARCHAR", "char": "VARCHAR", "timestamp": "TIMESTAMP", "real": "FLOAT"}


def duckdb_type(trino_type: str) -> str:
    """A Trino type (`integer`, `varchar(20)`, `decimal(18,2)`) as DuckDB names it."""
    base = re.split(r"[(\s]", trino_type.strip(), maxsplit=1)[0].lower()
    return _PLAIN.get(base, trino_type.upper())


def connection_args(url: str) -> dict[str, Any]:
    """`trino://user[:password]@host[:port]/catalog/schema[?http_scheme=http]` as the keyword
    arguments of `trino.dbapi.connect` (the password kept apart, for HTTP basic auth)."""
    parts = urlsplit(url)
    path = [unquote(p) for p in parts.path.split("/") if p]
    if parts.scheme != "trino" or not parts.hostname or len(path) != 2:
        raise ExecutionError(
            "database_error",
            detail="a Trino URL is trino://user@host:port/catalog/schema",
        )
    params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(params) - {"http_scheme"}
    if unknown:
        raise ExecutionError(
            "database_error", detail=f"unknown Trino parameter(s): {', '.join(sorted(unknown))}"
        )
    port = parts.port or 443
    scheme = params.get("http_scheme") or ("https" if port == 443 else "http")
    args: dict[str, Any] = {
        "host": parts.hostname,
        "port": port,
        "user": unquote(parts.username or "cockpit"),
        "catalog": path[0],
        "schema": path[1],
        "http_scheme": scheme,
    }
    if parts.password:
        if scheme != "https":
            raise ExecutionError("database_error", detail="Trino sends a password only over HTTPS")
        args["password"] = unquote(parts.password)
    return args


class TrinoEngine(_Connected):
    """Trino over its DB-API client, running nothing but checked queries (see the module)."""

    dialect = "trino"

    def __init__(
        self, url: str, timeout: float | None = 30.0, max_result_bytes: int = 64 * 2**20
    ) -> None:
        try:
            import trino
        except ImportError:
            raise ExecutionError(
                "database_error",
                detail="the Trino client is not installed: pip install -e '.[trino]'",
            ) from None
        args = connection_args(url)
        password = args.pop("password", None)
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self.path = None
        self.snapshots = None  # another client may write at any time: no data version
        # `_Connected.schema` reads information_schema for this schema (a literal, quoted).
        self.schema_name = exp.Literal.string(args["schema"]).sql(dialect=self.dialect)
        properties = {"query_max_run_time": f"{max(1, int(timeout))}s"} if timeout else {}
        auth = trino.auth.BasicAuthentication(args["user"], password) if password else None
        # Connecting sends nothing: the first statement opens the HTTP session.
        self._connection = trino.dbapi.connect(**args, auth=auth, session_properties=properties)

    def execute(self, sql: str | exp.Expression, timeout: float | None = None) -> Result:
        """Run one query (`timeout`: a shorter limit for this one)."""
        import trino

        text = sql.sql(dialect=self.dialect) if isinstance(sql, exp.Expression) else sql
        statement = read_only_query(text, self.dialect).sql(dialect=self.dialect)
        limit = self.timeout
        if timeout is not None:
            limit = min(limit, timeout) if limit else timeout
        cursor = self._connection.cursor()
        fired = threading.Event()
        timer = None
        if limit:

            def cancel() -> None:
                fired.set()
                cursor.cancel()

            timer = threading.Timer(max(limit, 0.001), cancel)
            timer.daemon = True
            timer.start()
        try:
            cursor.execute(statement)
            rows = self._fetch(cursor)
            description = cursor.description or []
        except ExecutionError:
            raise
        except trino.exceptions.TrinoQueryError as err:
            if fired.is_set() or err.error_name in ("EXCEEDED_TIME_LIMIT", "USER_CANCELED"):
                seconds = round(limit, 1) if limit else self.timeout
                raise ExecutionError("query_timeout", seconds=seconds) from None
            raise ExecutionError("database_error", detail=err.message or err.error_name) from None
        except Exception as err:  # the network, the server: a message, never a traceback
            if fired.is_set():
                seconds = round(limit, 1) if limit else self.timeout
                raise ExecutionError("query_timeout", seconds=seconds) from None
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ExecutionError("database_error", detail=detail) from None
        finally:
            if timer is not None:
                timer.cancel()
        columns = tuple(ResultColumn(d[0], duckdb_type(str(d[1]))) for d in description)
        return Result(columns=columns, rows=rows, sql=text)
