"""Database errors as the LLM may read them when it may not see data: no value from a row.

A repair prompt carries the database's error so the model can fix its SQL, but a runtime
error quotes the value that failed — `CAST(CAST(sum(amount) AS VARCHAR) || 'x' AS INTEGER)`
makes DuckDB say "Could not convert string '549784346.23x' to INT32", and an attacker's SQL
can put any row there (`regexp_matches('a', name || '(')` → "missing ): <the name>(", with
no quotes at all). Stripping quotes is not enough, and neither is a word list: an attacker
spells data in whatever words get through.

So the rule is by kind of error, not by pattern of value:

- Parser, Binder and Catalog errors are raised before any row is read: they depend on the
  statement and the schema only, which the model already has. They pass (any long hex run,
  such as a key pad from the role's views, is still cut out).
- Every other error (Conversion, Out of Range, Invalid Input…) is raised while rows are read.
  It passes only as one of the known messages below, rebuilt from fixed words, type names and
  schema columns, every value a placeholder:
  "Conversion Error: Could not convert string <value> to INT32". An unknown message passes as
  its class alone. What the model can still learn is which of these few messages it got — a
  handful of bits per repair round, as it could from whether an error happens at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Errors raised while binding the statement, before any data is touched.
STATIC = ("Parser", "Binder", "Catalog")
ERROR = re.compile(r"^(?P<kind>[A-Z][A-Za-z ]{0,40}?) Error: (?P<text>.*)$", re.S)
HEX_RUN = re.compile(r"(?i)\b(?:[0-9a-f]{2}){8,}\b")  # 16+ hex digits: a key pad, a hash

# The runtime messages that pass, as DuckDB writes them. Each placeholder matches a part and
# says how it is told: {value}, {any} and {number} as <value>/<number> whatever they hold,
# {type} as the type (DuckDB's type names: INT32, DECIMAL(18,2), VARCHAR[]), {time} and {op}
# as the one fixed word they matched, {source} as the schema column a cast read, if it is one.
KNOWN = (
    "Could not convert string {value} to {type}{source}",
    "Type {type} with value {value} can't be cast to the destination type {type}{source}",
    "Type {type} with value {value} can't be cast because the value is out of range for the "
    "destination type {type}{source}",
    "invalid {time} field format: {value}, expected format is {any}",
    "{time} field value out of range: {value}, expected format is {any}",
    "Overflow in {op} of {type} ({any})!",
    "Overflow on {op}({any})",
    "Could not parse string {value} according to format specifier {value}",
    "Malformed JSON at byte {number} of input: {any}",
    "More than one row returned by a subquery used as an expression - scalar subqueries can "
    "only return a single row.",
    "{time} out of range: {any}",
    "Unimplemented type for cast ({type} -> {type}){source}",
    "Division by zero in expression {any}",
    "Could not decode string {value} as base64: {any}",
    "Invalid type specifier {value} for formatting a value of type {type}",
    "Invalid escape string. Escape string must be empty or one character.",
    "failed to {op} data of size {any}",
)
# DuckDB's type names (duckdb_types()), longest first so TIMESTAMP_MS is not read as TIMESTAMP.
TYPES = sorted(
    """ARRAY BIGINT BIGNUM BINARY BIT BITSTRING BLOB BOOL BOOLEAN BPCHAR BYTEA CHAR DATE DATETIME
    DEC DECIMAL DOUBLE ENUM FLOAT FLOAT4 FLOAT8 GEOMETRY GUID HUGEINT INT INT1 INT128 INT16 INT2
    INT32 INT4 INT64 INT8 INTEGER INTERVAL JSON LIST MAP NULL NUMERIC NVARCHAR OID REAL ROW SHORT
    SIGNED SMALLINT STRING STRUCT TEXT TIME TIMESTAMP TIMESTAMPTZ TIMESTAMP_MS TIMESTAMP_NS
    TIMESTAMP_S TIMESTAMP_US TIMETZ TIME_NS TINYINT UBIGINT UHUGEINT UINT128 UINT16 UINT32 UINT64
    UINT8 UINTEGER UNION USMALLINT UTINYINT UUID VARBINARY VARCHAR VARIANT VARINT""".split()
    + ["TIME WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"],
    key=len,
    reverse=True,
)
# Every part that is shown is written in characters no quote can hide among: a value DuckDB
# quotes always brings its closing quote, so the message splits in only one way (a value
# written to look like "' to INT32 when casting from …" is read as value, whole).
PARTS = {
    "value": r"(?:'(?:[^']|'')*'|\"[^\"]*\"|.*?)",
    "any": r".*",
    "number": r"\d+",
    "type": rf"(?:{'|'.join(map(re.escape, TYPES))})(?:\(\d+(?:, ?\d+)?\))?(?:\[\d*\])*",
    "time": r"date|timestamp|time|interval|Date|Timestamp",
    "op": r"addition|subtraction|multiplication|division|negation|abs|allocate|pin",
    "source": r"(?: when casting from source column [\w.()]+)?",
}
SHOWN = {"value": "<value>", "any": "<value>", "number": "<number>"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
SOURCE = " when casting from source column "


def _compile(template: str) -> re.Pattern[str]:
    """`template` as a regular expression with one named group per placeholder."""
    pattern, at = "", 0
    for count, found in enumerate(PLACEHOLDER.finditer(template)):
        pattern += re.escape(template[at : found.start()])
        pattern += f"(?P<{found.group(1)}{count}>{PARTS[found.group(1)]})"
        at = found.end()
    return re.compile(pattern + re.escape(template[at:]).rstrip("\\.!") + r"[.!]?\s*$", re.S)


_KNOWN = [(template, _compile(template)) for template in KNOWN]


def redact(detail: str, columns: Iterable[str] = ()) -> str:
    """`detail` (DuckDB's first error line) with nothing in it that a row could have put there.

    `columns`: the schema's table and column names (`orders`, `order_lines.amount`), which a
    cast's message may name: the model has them already.

        >>> redact("Conversion Error: Could not convert string '549784346.23x' to INT32")
        'Conversion Error: Could not convert string <value> to INT32'
    """
    found = ERROR.match(detail.strip())
    if found is None:
        return "Error (details withheld: they may contain data values)"
    kind, text = found.group("kind"), found.group("text").strip()
    if kind in STATIC:
        return f"{kind} Error: {HEX_RUN.sub('<hex>', text)}"
    names = {c.lower() for c in columns}
    for template, pattern in _KNOWN:
        match = pattern.match(text)
        if match is not None:
            told = [_told(name, value, names) for name, value in match.groupdict().items()]
            # split() alternates fixed text and placeholder names: each name is told in turn.
            pieces = PLACEHOLDER.split(template)
            pieces[1::2] = told
            return f"{kind} Error: " + "".join(pieces)
    return f"{kind} Error: (details withheld: they may contain data values)"


def _told(placeholder: str, value: str | None, names: set[str]) -> str:
    """How one matched part is told (see KNOWN)."""
    kind = placeholder.rstrip("0123456789")
    if kind in SHOWN:
        return SHOWN[kind]
    if kind == "source":
        if not value:
            return ""
        column = value[len(SOURCE) :].strip('"')
        return SOURCE + (column if column.lower() in names else "<expression>")
    return value or ""
