"""`load_files`: a user's CSV, Excel, Parquet or DuckDB files → typed tables in one DuckDB file.

This is the first step of "bring your own data" (`cockpit init`); `draft.py` then reads the
database and writes a draft semantic model. Ingest runs before any question is asked, on its
own writable connection: the engine that answers questions opens the result read-only with
external access disabled.

What it does to the data, and why:

- every file becomes a table (every sheet of a workbook; every table of a DuckDB file), named
  by a safe identifier (`销售明细 2025.csv` → `table_1` unless the glossary knows every word:
  `门店.csv` → `store`); the original name is kept as the table's comment, which `draft.py`
  reads back as the label. Columns likewise: `门店编号` → `store_id`, comment `门店编号`;
- text that is really numbers, money (`¥1,234.50`), percentages (`12.5%`) or dates
  (`2025/1/5`, `2025年1月5日`, `2025-01`) is typed as DOUBLE/BIGINT/DATE, so sums and months
  work; codes with leading zeros (`007`) and numbers people quote (a `Policy_Number`, 订单号)
  stay text, so nothing adds them up; timestamps that are all midnight are dates;
- CSV encodings utf-8, utf-8 with BOM, utf-16 and GBK/GB18030 are detected, and the delimiter
  (`,` `;` tab `|`) sniffed. A non-UTF-8 file is transcoded to a temporary copy: input files are
  only ever read.

All of it runs in one transaction: a file that cannot be read leaves the database as it was.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from semantic_layer.errors import CockpitError

CSV_SUFFIXES = {".csv", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
DUCKDB_SUFFIXES = {".duckdb", ".ddb", ".db"}
SUPPORTED = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES | DUCKDB_SUFFIXES
# A DuckDB database file carries this magic at byte 8 (a SQLite ".db" does not).
DUCKDB_MAGIC = b"DUCK"
STAGE = "__cockpit_stage"
SAMPLE_BYTES = 1 << 20

# Text → date formats tried in order; the first that reads every value wins. `%Y%m%d` is
# tried only on columns whose name says "date" (20250105 is otherwise just a number).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y-%m",  # a month: the first day of it
    "%Y/%m",
    "%Y年%m月",
)
COMPACT_DATE = "%Y%m%d"
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
)
DATE_WORDS = re.compile(r"date|day|time|dt$|日期|时间|日$", re.IGNORECASE)
ID_WORDS = re.compile(
    r"(^|_)(id|identifier|code|no|nr|number|key|uuid|sku)$|^id_|编号|代码|编码|单号",
    re.IGNORECASE,
)
# A number people read, quote and list by, never count with: a policy, claim or invoice number.
# Written as digits, it stays text (12312701, not 12,312,701), so it is never summed and reads
# as written; surrogate keys (`claim_id`, `编号`) stay integers and keep joining as integers.
BUSINESS_NUMBER = re.compile(r"(^|_)(number|no|nr)$|单号|号码|[^编]号$")
INTEGER = r"[+-]?(0|[1-9][0-9]*)"
DECIMAL = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
# Money or a number with thousands separators: ¥1,234.50  $ 12,000  -1,234  ￥88.
MONEY = r"[+-]?[¥￥$€£]?\s*[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?"
MONEY_NOISE = r"[¥￥$€£,\s]"
PERCENT = r"[+-]?[0-9]+(\.[0-9]+)?\s*%"
LEADING_ZERO = r"[+-]?0[0-9]+"
MISSING = ("", "-", "--", "—", "N/A", "NA", "#N/A", "NULL", "NONE", "NAN", "无", "空")
# More digits than a DOUBLE keeps: card and account numbers, ids. They stay text.
LONG_NUMBER = r"[+-]?[0-9]{16,}"


class IngestError(CockpitError):
    """A data file cannot be loaded (missing, of an unsupported type, or unreadable)."""


@dataclass(frozen=True)
class LoadedColumn:
    """One column as stored: its identifier, the original header, its type, what was done."""

    name: str
    label: str
    type: str
    note: str = ""  # e.g. "dates 2025/1/5 (%Y/%m/%d)", "money ¥1,234.50"


@dataclass(frozen=True)
class LoadedTable:
    """One table written to the database, and where it came from."""

    name: str
    label: str  # the original file, sheet or table name
    source: Path
    sheet: str | None
    rows: int
    columns: tuple[LoadedColumn, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


# --- errors ---------------------------------------------------------------------------------
# errors.py has no codes for data files yet, so these reuse file_missing and invalid_query
# (with a detail); dedicated codes with their own zh/en wording would read better.
def _missing(path: Path) -> IngestError:
    return IngestError("data_file_missing", path=str(path))


def _unsupported(path: Path, why: str = "") -> IngestError:
    return IngestError("data_file_unsupported", name=f"{path.name}{why}")


def _unreadable(path: Path, err: object) -> IngestError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return IngestError("data_file_unreadable", name=path.name, detail=first)


# --- names ----------------------------------------------------------------------------------
def safe_identifier(text: str) -> str | None:
    """An ASCII identifier for a header or file name, or None if it has none.

    `Unit Price` → `unit_price`, `unitPrice` → `unit_price`, `2025 sales` → `t_2025_sales`;
    Chinese words the glossary knows are translated (`门店编号` → `store_id`); anything else
    with Chinese in it returns None so the caller picks a stable fallback (`table_1`, `col_3`).
    """
    from semantic_layer.draft import english_identifier

    text = unicodedata.normalize("NFKC", text).strip()
    if re.search(r"[^\x00-\x7f]", text):
        return english_identifier(text)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if not name:
        return None
    if name[0].isdigit():
        name = "t_" + name
    return plain_identifier(name)


def plain_identifier(name: str) -> str:
    """Names a model expression reads as a plain column (`select`, `case` are not)."""
    from semantic_layer.expressions import parse_expr

    try:
        node = parse_expr(name)
    except sqlglot.errors.ParseError:
        return name + "_"
    return name if isinstance(node, exp.Column) and node.name == name else name + "_"


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    taken.add(out)
    return out


# --- SQL helpers (identifiers and literals only ever enter as AST nodes) ----------------------
def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _lit(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _sql(node: exp.Expression) -> str:
    return node.sql(dialect="duckdb")


# --- files ----------------------------------------------------------------------------------
def _expand(paths: list[Path]) -> list[Path]:
    """Files to load: a folder means every supported file in it (sorted, hidden ones skipped)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise _missing(path)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and not p.name.startswith((".", "~$"))
            )
            if not found:
                raise _unsupported(
                    path, " (the folder holds no CSV, Excel, Parquet or DuckDB file)"
                )
            files.extend(found)
        elif path.suffix.lower() not in SUPPORTED:
            why = " (.xls: save it as .xlsx)" if path.suffix.lower() == ".xls" else ""
            raise _unsupported(path, why)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def detect_encoding(path: Path) -> str:
    """utf-8, utf-8-sig, utf-16 or gb18030 (a superset of GBK), judged on the first megabyte."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        whole = len(head) < SAMPLE_BYTES
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            # Incremental: a multi-byte character cut at the sample's end is not an error.
            codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
            return encoding
        except UnicodeDecodeError:
            continue
    raise _unreadable(path, "not UTF-8 or GBK text")


def sniff_delimiter(sample: str) -> str:
    """`,` `;` tab or `|`, whichever the first lines are split by; `,` when unsure."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _utf8_copy(path: Path, encoding: str, folder: Path) -> Path:
    """A UTF-8 copy of a text file in `folder` (the original is never written)."""
    target = folder / f"{len(list(folder.iterdir()))}.csv"
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return target


@dataclass
class _Source:
    """One table to load: a relation on the target connection, named and labelled."""

    label: str
    path: Path
    sheet: str | None
    relation: duckdb.DuckDBPyRelation


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, scratch: Path) -> Iterator[_Source]:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(64_000)
    if not sample.strip():
        raise _unreadable(path, "the file is empty")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(sample)
    readable = path if encoding == "utf-8" else _utf8_copy(path, encoding, scratch)
    relation = con.read_csv(
        str(readable), delimiter=delimiter, header=True, all_varchar=True, null_padding=True
    )
    yield _Source(path.stem, path, None, relation)


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[_Source]:
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    except Exception as err:  # openpyxl raises many kinds for a damaged workbook
        raise _unreadable(path, err) from None
    named = len(sheets) > 1
    for sheet, frame in sheets.items():
        frame = frame.dropna(how="all").dropna(axis=1, how="all")
        if frame.empty:
            continue
        frame.columns = [_header(c, i) for i, c in enumerate(frame.columns)]
        for column in frame.columns:
            if frame[column].dtype == object:
                # Mixed cells (numbers and text) are read as text; empty cells stay NULL.
                frame[column] = frame[column].map(lambda v: None if pd.isna(v) else str(v))
        # One sheet: the file names the table; several: each sheet does (unless it is Sheet2).
        generic = re.fullmatch(r"(sheet|工作表)\s*\d*", str(sheet).strip(), re.IGNORECASE)
        if not named:
            label = path.stem
        elif generic:
            label = f"{path.stem}_{sheet}"
        else:
            label = str(sheet)
        yield _Source(label, path, str(sheet), con.from_df(frame))


def _header(value: object, index: int) -> str:
    text = str(value).strip()
    return f"column{index + 1}" if not text or text.startswith("Unnamed:") else text


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[_Source]:
    yield _Source(path.stem, path, None, con.read_parquet(str(path)))


def _read_duckdb(
    con: duckdb.DuckDBPyConnection, path: Path, sources: list[duckdb.DuckDBPyConnection]
) -> Iterator[_Source]:
    with path.open("rb") as handle:
        if handle.read(12)[8:12] != DUCKDB_MAGIC:
            raise _unsupported(path, " (not a DuckDB database)")
    try:
        src = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as err:
        raise _unreadable(path, err) from None
    sources.append(src)
    listing = exp.select("schema_name", "table_name").from_("duckdb_tables()")
    listing = listing.where(exp.column("internal").not_()).order_by("schema_name", "table_name")
    for schema, table in src.execute(_sql(listing)).fetchall():
        label = table if schema == "main" else f"{schema}_{table}"
        ref = exp.Table(
            this=exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True)
        )
        relation = src.sql(_sql(exp.select("*").from_(ref)))
        # Streamed as Arrow batches into the target connection: nothing is attached.
        yield _Source(label, path, table, con.from_arrow(relation.to_arrow_reader()))


# --- typing ---------------------------------------------------------------------------------
def _typed_expr(
    con: duckdb.DuckDBPyConnection, column: str, kind: str, name: str = ""
) -> tuple[exp.Expression, str]:
    """The expression that gives `column` of the staging table its real type, and a note.

    `name` is the identifier the column is stored under (`Company_Claim_Number` →
    `company_claim_number`): what it says decides whether digits are a number or an identifier.
    """
    col = _col(column)
    number = bool(BUSINESS_NUMBER.search(name.lower()) or BUSINESS_NUMBER.search(column))
    if kind.startswith("TIMESTAMP") and "TIME ZONE" not in kind:
        if _all_midnight(con, col):
            return exp.cast(col, "DATE"), "timestamps at midnight → dates"
        return col, ""
    if kind in ("DOUBLE", "FLOAT") and ID_WORDS.search(column):
        # Excel and pandas turn integer ids with gaps into floats (1001.0): undo that.
        whole = col.copy().eq(exp.func("floor", col.copy()))
        query = exp.select(exp.func("count", col.copy()).eq(_count_if(whole)))
        if _scalar(con, query.from_(_table(STAGE))):
            if number:
                whole = exp.cast(col, "BIGINT")
                return exp.cast(whole, "VARCHAR"), "identifiers written as numbers → text"
            return exp.cast(col, "BIGINT"), "whole numbers → integers"
    if kind != "VARCHAR":
        return col, ""
    return _infer_text(con, column, number)


def _all_midnight(con: duckdb.DuckDBPyConnection, value: exp.Expression) -> bool:
    at_midnight = exp.cast(value.copy(), "TIME").eq(exp.cast(_lit("00:00:00"), "TIME"))
    query = exp.select(exp.func("count", value.copy()).eq(_count_if(at_midnight)))
    return bool(_scalar(con, query.from_(_table(STAGE))))


def _scalar(con: duckdb.DuckDBPyConnection, query: exp.Expression) -> object:
    return con.execute(_sql(query)).fetchone()[0]


def _infer_text(
    con: duckdb.DuckDBPyConnection, column: str, identifier: bool = False
) -> tuple[exp.Expression, str]:
    """Text → BIGINT, DOUBLE, percent, DATE or TIMESTAMP when every value reads as one; digits
    in an `identifier` column (a policy number) stay text."""
    trimmed = exp.func("trim", _col(column))
    # "-", "N/A", "#N/A", 无: how exports write a missing number or date. They become NULL
    # when the column is typed; a column that stays text keeps them as written.
    missing = exp.In(this=exp.func("upper", trimmed.copy()), expressions=[_lit(t) for t in MISSING])
    value = exp.Case(ifs=[exp.If(this=missing, true=exp.null())], default=trimmed)

    def v() -> exp.Expression:
        return value.copy()

    def matches(pattern: str) -> exp.Expression:
        return _fn("regexp_full_match", v(), _lit(pattern))

    def cleaned() -> exp.Expression:
        return _fn("regexp_replace", v(), _lit(MONEY_NOISE), _lit(""), _lit("g"))

    date_formats = [*((COMPACT_DATE,) if DATE_WORDS.search(column) else ()), *DATE_FORMATS]
    bigint = exp.DataType.build("BIGINT")
    checks: dict[str, exp.Expression] = {
        "leading_zero": matches(LEADING_ZERO),
        "long_number": matches(LONG_NUMBER),
        # TRY_CAST keeps 20-digit "integers" (card numbers) as text: they overflow BIGINT.
        "integer": matches(INTEGER).and_(exp.TryCast(this=v(), to=bigint).is_(exp.null()).not_()),
        "decimal": matches(DECIMAL),
        "money": matches(MONEY),
        "money_integer": matches(MONEY).and_(_fn("regexp_full_match", cleaned(), _lit(INTEGER))),
        "percent": matches(PERCENT),
    }
    for i, fmt in enumerate(date_formats):
        checks[f"date{i}"] = _parses(v(), fmt)
    for i, fmt in enumerate((*TIMESTAMP_FORMATS, None)):
        checks[f"ts{i}"] = _timestamp(v(), fmt).is_(exp.null()).not_()
    select = [exp.func("count", v()).as_("n")]
    select += [_count_if(check).as_(key) for key, check in checks.items()]
    row = con.execute(_sql(exp.select(*select).from_(_table(STAGE)))).fetchone()
    counts = dict(zip(["n", *checks], row, strict=True))
    n = counts["n"]
    col = _col(column)
    if n == 0:
        return col, ""

    def every(key: str) -> bool:
        return counts[key] == n

    for i, fmt in enumerate(date_formats):
        if every(f"date{i}") and _plausible_years(con, v(), fmt):
            parsed = exp.cast(_fn("try_strptime", v(), _lit(fmt)), "DATE")
            return parsed, f"dates ({fmt})"
    for i, fmt in enumerate((*TIMESTAMP_FORMATS, None)):
        if every(f"ts{i}"):
            parsed = _timestamp(v(), fmt)
            if _all_midnight(con, parsed):
                return exp.cast(parsed, "DATE"), f"dates ({fmt or 'ISO'}, times at midnight)"
            return parsed, f"timestamps ({fmt or 'ISO'})"
    if counts["leading_zero"] or counts["long_number"]:
        return col, ""  # codes such as 007, and card numbers, stay as written
    if identifier and every("integer"):
        return col, "identifiers written as numbers stay text"
    if every("integer"):
        return exp.cast(v(), "BIGINT"), ""
    if every("decimal"):
        return exp.cast(v(), "DOUBLE"), ""
    if every("money_integer") and counts["money_integer"]:
        return exp.cast(cleaned(), "BIGINT"), "numbers with separators"
    if every("money"):
        return exp.cast(cleaned(), "DOUBLE"), "money / numbers with separators"
    if every("percent"):
        number = _fn("regexp_replace", v(), _lit(r"[%\s]"), _lit(""), _lit("g"))
        return exp.Div(this=exp.cast(number, "DOUBLE"), expression=exp.Literal.number(100)), (
            "percentages → fractions"
        )
    return col, ""


def _count_if(check: exp.Expression) -> exp.Expression:
    return exp.func("count_if", check)


def _parses(value: exp.Expression, fmt: str) -> exp.Expression:
    return _fn("try_strptime", value, _lit(fmt)).is_(exp.null()).not_()


def _timestamp(value: exp.Expression, fmt: str | None) -> exp.Expression:
    """`fmt` parsed, or (None) anything DuckDB reads as a timestamp: 2025-01-05T10:00:00.5."""
    if fmt is None:
        return exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMP"))
    return _fn("try_strptime", value, _lit(fmt))


def _plausible_years(con: duckdb.DuckDBPyConnection, value: exp.Expression, fmt: str) -> bool:
    parsed = _fn("try_strptime", value, _lit(fmt))
    query = exp.select(
        exp.func("min", exp.func("year", parsed.copy())), exp.func("max", exp.func("year", parsed))
    ).from_(_table(STAGE))
    low, high = con.execute(_sql(query)).fetchone()
    return low is not None and low >= 1900 and high <= 2200


# --- loading --------------------------------------------------------------------------------
def load_files(paths: list[Path], database: Path) -> list[LoadedTable]:
    """Load CSV, Excel (.xlsx), Parquet and DuckDB files (or folders of them) into `database`.

    Creates the database if needed; a table of the same name already in it is replaced,
    others are kept. Returns the tables written, in input order. Raises `IngestError` for a
    missing file, an unsupported type or an unreadable file — and then writes nothing (one
    transaction; a database file this call created is removed again).
    """
    database = Path(database)
    files = _expand([Path(p) for p in paths])
    for file in files:
        if file.resolve() == database.resolve():
            raise IngestError("invalid_query", detail=f"{file.name} is the target database itself")
    database.parent.mkdir(parents=True, exist_ok=True)
    created = not database.exists()
    try:
        con = duckdb.connect(str(database))
    except duckdb.Error as err:
        # Not a DuckDB file, or open elsewhere (the app's read-only engine): say which.
        first = str(err).strip().splitlines()[0]
        raise IngestError("database_error", detail=f"{database}: {first}") from None
    source_connections: list[duckdb.DuckDBPyConnection] = []
    loaded: list[LoadedTable] = []
    try:
        with tempfile.TemporaryDirectory(prefix="cockpit-ingest-") as scratch:
            con.begin()
            taken: set[str] = set()
            fallback = 0
            for file in files:
                for source in _sources(con, file, Path(scratch), source_connections):
                    name = safe_identifier(source.label)
                    if name is None:
                        fallback += 1
                        name = f"table_{fallback}"
                    name = _unique(name, taken)
                    try:
                        loaded.append(_store(con, source, name))
                    except duckdb.Error as err:
                        raise _unreadable(file, err) from None
            con.commit()
    except BaseException:
        _rollback(con)
        con.close()
        if created:  # a database this call created and could not fill is not left behind
            for leftover in (database, database.with_name(database.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        for src in source_connections:
            src.close()
        con.close()
    return loaded


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open
        con.rollback()


def _sources(
    con: duckdb.DuckDBPyConnection,
    file: Path,
    scratch: Path,
    source_connections: list[duckdb.DuckDBPyConnection],
) -> Iterator[_Source]:
    suffix = file.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            yield from _read_csv(con, file, scratch)
        elif suffix in EXCEL_SUFFIXES:
            yield from _read_excel(con, file)
        elif suffix in PARQUET_SUFFIXES:
            yield from _read_parquet(con, file)
        else:
            yield from _read_duckdb(con, file, source_connections)
    except (duckdb.Error, OSError, UnicodeError, ValueError) as err:
        raise _unreadable(file, err) from None


def _store(con: duckdb.DuckDBPyConnection, source: _Source, name: str) -> LoadedTable:
    """Stage the raw relation, type each column, write `name` with the originals as comments."""
    con.execute(_sql(exp.Drop(tables=[_table(STAGE)], kind="TABLE", exists=True)))
    source.relation.create(STAGE)
    originals = con.execute(_sql(exp.select("*").from_(_table(STAGE)).limit(0))).description
    kinds = [
        kind
        for (kind,) in con.execute(
            _sql(
                exp.select("data_type")
                .from_("duckdb_columns()")
                .where(exp.column("table_name").eq(_lit(STAGE)))
                .order_by("column_index")
            )
        ).fetchall()
    ]
    select, columns, taken = [], [], set()
    for index, (desc, kind) in enumerate(zip(originals, kinds, strict=True)):
        original = desc[0]
        column = safe_identifier(original) or f"col_{index + 1}"
        column = _unique(column, taken)
        expr, note = _typed_expr(con, original, kind, column)
        select.append(expr.as_(exp.to_identifier(column, quoted=True)))
        columns.append((column, original, note))
    create = exp.Create(
        this=_table(name),
        kind="TABLE",
        replace=True,
        expression=exp.select(*select).from_(_table(STAGE)),
    )
    con.execute(_sql(create))
    con.execute(_sql(exp.Drop(tables=[_table(STAGE)], kind="TABLE")))
    con.execute(_sql(exp.Comment(this=_table(name), kind="TABLE", expression=_lit(source.label))))
    for column, original, _note in columns:
        comment = exp.Comment(this=_col(column, name), kind="COLUMN", expression=_lit(original))
        con.execute(_sql(comment))
    types = dict(
        con.execute(
            _sql(
                exp.select("column_name", "data_type")
                .from_("duckdb_columns()")
                .where(exp.column("table_name").eq(_lit(name)))
            )
        ).fetchall()
    )
    rows = _scalar(con, exp.select(exp.func("count", exp.Star())).from_(_table(name)))
    return LoadedTable(
        name=name,
        label=source.label,
        source=source.path,
        sheet=source.sheet,
        rows=int(rows),
        columns=tuple(
            LoadedColumn(column, original, str(types[column]), note)
            for column, original, note in columns
        ),
    )
