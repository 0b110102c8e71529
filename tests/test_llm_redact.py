"""What a database error tells the LLM when it may not see data (`assistant/llm/redact.py`).

Each statement really fails on the demo database; the error DuckDB writes quotes a row's
value, and what the repair prompt would carry is compared whole with what it should say.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assistant.llm.redact import redact
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import ExecutionError

NAMES = "(SELECT max(customer_name) FROM customers)"
REVENUE = "(SELECT CAST(sum(amount) AS VARCHAR) FROM order_lines)"

CASES = {
    "cast": (
        f"SELECT CAST({REVENUE} || 'x' AS INTEGER)",
        "Conversion Error: Could not convert string <value> to INT32",
    ),
    "cast-column": (
        "SELECT CAST(customer_name AS INTEGER) FROM customers",
        "Conversion Error: Could not convert string <value> to INT32 when casting from source "
        "column customer_name",
    ),
    "decimal": (
        "SELECT CAST(customer_name AS DECIMAL(10, 2)) FROM customers",
        "Conversion Error: Could not convert string <value> to DECIMAL(10,2) when casting from "
        "source column customer_name",
    ),
    "date": (
        f"SELECT CAST({NAMES} AS DATE)",
        "Conversion Error: invalid date field format: <value>, expected format is <value>",
    ),
    "list": (
        f"SELECT CAST({NAMES} AS INTEGER[])",
        "Conversion Error: Type VARCHAR with value <value> can't be cast to the destination "
        "type INTEGER[]",
    ),
    "out-of-range": (
        "SELECT CAST(max(quantity) AS TINYINT) * 100 FROM order_lines",
        "Conversion Error: Type INT32 with value <value> can't be cast because the value is out "
        "of range for the destination type INT8 when casting from source column <expression>",
    ),
    "overflow": (
        "SELECT CAST(sum(quantity) AS BIGINT) * 9223372036854775807 FROM order_lines",
        "Out of Range Error: Overflow in multiplication of INT64 (<value>)!",
    ),
    "strptime": (
        f"SELECT strptime({NAMES}, '%Y')",
        "Invalid Input Error: Could not parse string <value> according to format specifier <value>",
    ),
    "date-range": (
        "SELECT make_date(2025, CAST(max(quantity) AS INTEGER), 1) FROM order_lines",
        "Conversion Error: Date out of range: <value>",
    ),
    # No template: the message is unquoted data ("missing ): <name>("), so only its class.
    "regex": (
        f"SELECT regexp_matches('a', {NAMES} || '(')",
        "Invalid Input Error: (details withheld: they may contain data values)",
    ),
    # A value written to look like the end of DuckDB's message is still read as the value.
    "quote-trick": (
        f"SELECT CAST({REVENUE} || ''' to INT32 when casting from source column amount' AS INT)",
        "Conversion Error: Could not convert string <value> to INT32",
    ),
    # Raised before any row is read: the statement's and the schema's words only.
    "binder": (
        "SELECT amout FROM order_lines",
        'Binder Error: Referenced column "amout" not found in FROM clause!',
    ),
    "catalog": (
        "SELECT * FROM order_line",
        "Catalog Error: Table with name order_line does not exist!",
    ),
}


# Through the product's engine: a second raw connection to the demo file with another
# configuration is refused while the suite holds one.
@pytest.fixture(scope="module")
def engine(demo_db: Path):
    with DuckDBEngine(demo_db, cache_size=0) as engine:
        yield engine


def _error(engine: DuckDBEngine, statement: str) -> str:
    """DuckDB's own message for a failing statement (the engine keeps it as the cause)."""
    with pytest.raises(ExecutionError) as caught:
        engine.execute(statement)
    assert isinstance(caught.value.__cause__, duckdb.Error), caught.value
    return str(caught.value.__cause__).splitlines()[0]


@pytest.fixture(scope="module")
def columns(engine: DuckDBEngine) -> list[str]:
    rows = engine.execute("SELECT table_name, column_name FROM information_schema.columns").rows
    return sorted({t for t, _ in rows} | {c for _, c in rows} | {f"{t}.{c}" for t, c in rows})


@pytest.mark.parametrize("case", list(CASES))
def test_a_database_error_loses_its_values(case, engine, columns):
    statement, expected = CASES[case]
    error = _error(engine, statement)
    told = redact(error, columns)
    assert told == expected or told.startswith(expected), (error, told)
    values = [str(v) for v in engine.execute(f"SELECT {NAMES}, {REVENUE}").rows[0]]
    assert not any(value in told for value in values)


def test_a_key_pad_in_a_binder_error_is_cut_out():
    pad = "36" * 32
    told = redact(f"Binder Error: No function matches 'unhex({pad})'")
    assert pad not in told and told == "Binder Error: No function matches 'unhex(<hex>)'"


def test_text_that_is_no_database_error_is_withheld():
    assert redact("华信精密制造股份有限公司") == (
        "Error (details withheld: they may contain data values)"
    )
