"""The `cockpit` command: build the demo, check a model, list metrics, run semantic queries.

Every user mistake ends as a clear message in the chosen language and exit code 1 — never a
traceback. A setting that cannot be used (COCKPIT_AS_OF=xyz, a broken cockpit.toml, --as-of
31/12) is one line per setting and exit code 2, like any other usage error.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from pydantic import ValidationError
from sqlglot import Dialects
from typer.core import TyperArgument, TyperGroup, TyperOption

from assistant.settings import Settings, SettingsError, configured_cache_dir, load_settings
from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import CockpitError, ConfigError
from semantic_layer.loader import load_model
from semantic_layer.query import Compare, SemanticQuery


class _PlainArgument(TyperArgument):
    """An argument shown by its name alone, as `QUESTION` (typer would add a tag like <str>)."""

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        return None


def _conventional_help(params: list) -> None:
    """Help without type tags (<str>, <bool>, <list[str]>): a flag shows nothing after its
    name, an option with a fixed set of values its choices ([zh|en]), any other option its
    metavar (DATE, FILE…), an argument its name in capitals. Idempotent."""
    for param in params:
        if isinstance(param, TyperArgument):
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument
            if param.metavar is None:
                param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")
        elif isinstance(param, TyperOption) and param.metavar is None:
            choices = param.type_descriptor.choices
            if param.is_flag or param.count:
                param.metavar = ""
            elif choices:
                param.metavar = "[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]"
            else:
                param.metavar = "VALUE"


class _Commands(TyperGroup):
    """The command groups; a `SettingsError` raised anywhere in a command — wherever its
    settings are built — ends as its one-line message and exit code 2, never a traceback.
    Every command's help is conventional (see `_conventional_help`)."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except SettingsError as err:
            _settings_failed(err)

    def get_params(self, ctx: typer.Context) -> list:
        params = super().get_params(ctx)
        _conventional_help(params)
        return params

    def get_command(self, ctx: typer.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, TyperGroup):
            _conventional_help([*command.params, command.get_help_option(ctx)])
        return command


app = typer.Typer(
    cls=_Commands,
    help="Cockpit — ask your business and finance data (指标中心 + 自然语言分析).",
    no_args_is_help=True,
    add_completion=False,
)

# The settings check the language (and accept EN), so the option lists its choices itself.
Lang = Annotated[
    str | None,
    typer.Option(
        "--lang",
        metavar="[zh|en]",
        help="language of answers and messages (default: COCKPIT_LANG or zh)",
    ),
]
ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", metavar="PATH", help="semantic model YAML file or folder"),
]
DbOpt = Annotated[Path | None, typer.Option("--db", metavar="FILE", help="DuckDB database file")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="URL",
        help="instead of DuckDB: postgresql://user:pass@host/db, spark://local?warehouse=DIR, "
        "spark://host:7077?warehouse=URL or sc://host:15002?database=DB (Spark Connect)",
    ),
]
RoleOpt = Annotated[
    str | None,
    typer.Option("--role", metavar="ROLE", help="answer as this model role (row filters, masks)"),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", metavar="DATE", help="the 'today', YYYY-MM-DD")
]

# sqlglot reads these, but they are no SQL engine to write a statement for.
_NOT_SQL = {"", "dax", "prql", "solr", "tableau"}
DIALECTS = sorted(d.value for d in Dialects if d.value not in _NOT_SQL)
Dialect = Literal[tuple(DIALECTS)]  # type: ignore[valid-type]


# Settings given as options are named in messages the way they were typed.
OPTION_NAMES = {
    "as_of": "--as-of",
    "database": "--db",
    "engine": "--engine",
    "lang": "--lang",
    "model": "--model",
    "role": "--role",
}


def _fail(err: CockpitError, lang: str) -> NoReturn:
    """The message; exit code 2 for a configuration the program cannot run with (a bad
    setting, a memory limit DuckDB refuses, a broken secret file), 1 for anything else."""
    if isinstance(err, SettingsError):
        _settings_failed(err)
    typer.echo(err.message(lang), err=True)
    raise typer.Exit(2 if isinstance(err, ConfigError) else 1)


def _audit_unasked(
    question: str, role: str | None, err: CockpitError, lang: str, cache_dir: Path | None
) -> None:
    """A question stopped before the assistant could take it (a bad setting, an unknown role,
    a database that will not open) still gets its audit line, with the reason — wherever the
    log is known (not when the cache directory is itself the bad setting)."""
    if cache_dir is None:
        return
    from assistant.answer import Answer
    from assistant.audit import AuditLog

    message = err.message() if isinstance(err, SettingsError) else err.message(lang)
    answer = Answer(question=question, status="error", lang=lang, message=message, path="cli")
    AuditLog(cache_dir / "audit" / "audit.jsonl").record(answer, role, 0.0)


def _settings_failed(err: SettingsError) -> NoReturn:
    """Unusable settings: their lines in the configured language (both when the language
    setting is the bad one), exit code 2 — a usage error, as click reports its own."""
    typer.echo(err.message(), err=True)
    raise typer.Exit(2)


def _settings(**overrides: object) -> Settings:
    """The settings for a command: its options (None: not given) over the environment and the
    config file; unusable values end the command with their one-line messages."""
    try:
        return load_settings(labels=OPTION_NAMES, **overrides)
    except SettingsError as err:
        _settings_failed(err)


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="where to write the DuckDB file")
    ],
    scale: Annotated[
        int, typer.Option(min=1, metavar="N", help="multiplies customers, reps and orders")
    ] = 1,
    seed: Annotated[int, typer.Option(metavar="N", help="random seed: same seed, same data")] = 42,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres", metavar="URL", help="also copy it into this PostgreSQL database"
        ),
    ] = None,
    spark: Annotated[
        str | None,
        typer.Option(
            "--spark",
            metavar="TARGET",
            help="also write it for Spark: a folder of Parquet tables, or a Spark URL with "
            "?warehouse=… or ?database=…",
        ),
    ] = None,
) -> None:
    """Generate the demo company 华锐科技 (2023–2025) into a DuckDB file (and PostgreSQL, Spark)."""
    from semantic_layer.demo.generate import generate

    started = time.perf_counter()
    generate(out, scale=scale, seed=seed)
    typer.echo(f"{out} (scale {scale}, seed {seed}) in {time.perf_counter() - started:.1f}s")
    if postgres:
        from semantic_layer.demo.postgres import copy_to_postgres

        tables = copy_to_postgres(out, postgres, replace=True)
        typer.echo(f"copied {len(tables)} tables to PostgreSQL")
    if spark:
        from semantic_layer.demo.spark import copy_to_spark

        try:
            tables = copy_to_spark(out, spark)
        except CockpitError as err:
            _fail(err, _settings().lang)
        typer.echo(f"wrote {len(tables)} tables for Spark to {spark}")


@app.command()
def check(
    model: Annotated[
        Path | None, typer.Argument(metavar="MODEL", help="model YAML file or folder")
    ] = None,
    db: DbOpt = None,
    engine: EngineOpt = None,
    lang: Lang = None,
) -> None:
    """Validate a semantic model; with --db or --engine, also check it against the database
    and run it."""
    from semantic_layer.check import check_model
    from semantic_layer.engine import open_engine
    from semantic_layer.loader import read_model

    settings = _settings(model=model, database=db, lang=lang, engine=engine)
    lang = settings.lang
    source = settings.model
    try:
        if engine is not None:
            with open_engine(settings.engine) as connected:
                _, issues = check_model(source, connected)
        elif db is not None or settings.database is not None or source is None:
            with DuckDBEngine(settings.database_path()) as engine:
                _, issues = check_model(source, engine)
        else:
            _, issues = read_model(source)
    except CockpitError as err:
        _fail(err, lang)
    errors = [i for i in issues if i.severity == "error"]
    for issue in issues:
        prefix = (
            "警告"
            if issue.severity == "warning" and lang == "zh"
            else (
                "warning" if issue.severity == "warning" else ("错误" if lang == "zh" else "error")
            )
        )
        typer.echo(f"{prefix}: {issue.message(lang)}", err=True)
    if errors:
        summary = f"发现 {len(errors)} 个错误" if lang == "zh" else f"{len(errors)} error(s)"
        typer.echo(summary, err=True)
        raise typer.Exit(1)
    typer.echo("模型检查通过" if lang == "zh" else "Model OK")


@app.command()
def metrics(model: ModelOpt = None, lang: Lang = None) -> None:
    """List the governed metrics with their definitions (口径)."""
    settings = _settings(model=model, lang=lang)
    try:
        semantic_model = load_model(settings.model)
    except CockpitError as err:
        _fail(err, settings.lang)
    zh = settings.lang == "zh"
    rows = [
        [
            metric.name,
            metric.label.get(settings.lang),
            metric.description.get(settings.lang) if metric.description else "",
        ]
        for metric in semantic_model.metrics
    ]
    _print_table(["指标", "名称", "口径"] if zh else ["metric", "label", "definition"], rows)


_FILTER = re.compile(r"^\s*(\w+)\s*(!=|>=|<=|=|>|<|~)\s*(.+?)\s*$")


def _parse_filter(text: str) -> dict[str, object]:
    """`dim=value`, `dim=a,b` (in), `dim!=value`, `dim~part` (contains), `dim>=value`…"""
    match = _FILTER.match(text)
    if not match:
        raise typer.BadParameter(f"cannot read filter {text!r}; try dimension=value")
    dimension, op, value = match.groups()
    values = [v.strip() for v in value.split(",")]
    if op == "=" and len(values) > 1:
        return {"dimension": dimension, "op": "in", "values": values}
    if op == "!=" and len(values) > 1:
        return {"dimension": dimension, "op": "not_in", "values": values}
    return {"dimension": dimension, "op": "contains" if op == "~" else op, "values": values[:1]}


def _parse_having(text: str) -> dict[str, object]:
    match = _FILTER.match(text)
    if not match or match.group(2) == "~":
        raise typer.BadParameter(f"cannot read condition {text!r}; try gross_margin<0.2")
    metric, op, value = match.groups()
    try:
        number = float(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number") from None
    return {"metric": metric, "op": op, "value": number}


@app.command()
def query(
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", metavar="METRIC", help="metric name (repeat for more)"),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by", "-b", metavar="DIMENSION", help="dimension, or metric_time:month (a time grain)"
        ),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", "-w", metavar="FILTER", help="dimension=value (!=, ~, >, <, a,b)"),
    ] = None,
    having: Annotated[
        list[str] | None, typer.Option(metavar="CONDITION", help="e.g. gross_margin<0.2")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="first day, YYYY-MM-DD")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="day after the last, YYYY-MM-DD")
    ] = None,
    compare: Annotated[
        Compare,
        typer.Option(
            metavar="BASIS",
            help="compare with: " + ", ".join(c.value for c in Compare),
        ),
    ] = Compare.none,
    share: Annotated[
        bool, typer.Option("--share", help="add each row's share of the total")
    ] = False,
    order: Annotated[
        list[str] | None,
        typer.Option(metavar="FIELD", help="field, or -field for descending"),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, metavar="N", help="at most N rows")] = None,
    json_query: Annotated[
        str | None, typer.Option("--json", metavar="JSON", help="a SemanticQuery as JSON")
    ] = None,
    sql_only: Annotated[bool, typer.Option("--sql", help="print the SQL, do not run it")] = False,
    dialect: Annotated[
        Dialect,
        typer.Option(metavar="DIALECT", help="SQL dialect for --sql: " + ", ".join(DIALECTS)),
    ] = "duckdb",
    output: Annotated[
        Literal["table", "csv", "json"], typer.Option("--format", help="how to print the rows")
    ] = "table",
    role: RoleOpt = None,
    model: ModelOpt = None,
    db: DbOpt = None,
    lang: Lang = None,
) -> None:
    """Run a semantic query: metrics by dimensions, filtered, in a period, maybe compared."""
    settings = _settings(model=model, database=db, lang=lang)
    lang = settings.lang
    try:
        if json_query:
            semantic_query = SemanticQuery.model_validate_json(json_query)
        else:
            time_range = None
            if start or end:
                if not (start and end):
                    raise typer.BadParameter("give both --from and --to")
                time_range = {"start": start, "end": end}
            semantic_query = SemanticQuery(
                metrics=metric or [],
                dimensions=by or [],
                filters=[_parse_filter(f) for f in where or []],
                having=[_parse_having(h) for h in having or []],
                time_range=time_range,
                compare=compare,
                order_by=[{"field": o.lstrip("-"), "desc": o.startswith("-")} for o in order or []],
                limit=limit,
                intent="share" if share else "lookup",
            )
    except ValidationError as err:
        first = err.errors()[0]
        where_ = ".".join(str(p) for p in first["loc"])
        message = (
            f"查询无效（{where_}）：{first['msg']}"
            if lang == "zh"
            else (f"Invalid query ({where_}): {first['msg']}")
        )
        typer.echo(message, err=True)
        raise typer.Exit(1) from None
    if sql_only:
        try:
            # Without the database: the portable form (balances find their dates by subquery).
            typer.echo(compile_query(load_model(settings.model), semantic_query).to_sql(dialect))
        except CockpitError as err:
            _fail(err, lang)
        return
    # The numbers only (no insight, no comparison added for context), through the same path
    # as `ask`: the role's row security, the as-of date, members named in the language.
    assistant = _assistant(model, db, None, role, lang=lang, answer_lang=lang)
    try:
        answer = assistant.run(semantic_query, lang=lang, plain=True)
    finally:
        assistant.engine.close()  # the command is done with the database (tests run many)
    if answer.status != "ok":
        typer.echo(answer.message, err=True)
        raise typer.Exit(1)
    if output == "json":
        typer.echo(json.dumps(answer.records(), ensure_ascii=False, default=str, indent=2))
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(answer.names)
        writer.writerows(answer.rows)
    else:
        _print_rows(answer, limit=None)


def _print_rows(answer, limit: int | None) -> None:
    """The answer's table as the app shows it: ¥ and 万/亿 (K/M/B) per column, rates as %,
    changes of rates in points, periods by name (2025年Q4, not 2025-10-01), a KPI pack one
    metric per row, month × member as a pivot; the first `limit` rows."""
    from assistant.ui_helpers import table_frame

    frame = table_frame(answer, answer.lang)
    header = [str(c) for c in frame.columns]
    rows = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    _print_table(header, rows[:limit])
    if limit is not None and len(rows) > limit:
        more = len(rows) - limit
        typer.echo(f"… 另有 {more} 行" if answer.lang == "zh" else f"… {more} more rows")


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    """Columns aligned by the width a terminal gives each character (毛利率 takes six)."""
    from rich.cells import cell_len as width

    widths = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True))

    typer.echo(line(header).rstrip())
    typer.echo("  ".join("-" * w for w in widths))
    for row in rows:
        typer.echo(line(row).rstrip())


def _answer_language(settings: Settings, option: str | None) -> str | None:
    """The language answers are written in: `--lang`, else COCKPIT_LANG (or the config file's
    `lang`) when set; None when neither is, and each answer follows its question's language."""
    if option is not None or "lang" in settings.model_fields_set:
        return settings.lang
    return None


def _assistant(
    model: Path | None,
    db: Path | None,
    as_of: str | None,
    role: str | None = None,
    engine: str | None = None,
    lang: str | None = None,
    answer_lang: str | None = None,
    question: str | None = None,
):
    """The Assistant for a command; a bad model or database ends with a clear message
    (in `lang`: the question's language when there is a question), a bad setting such as
    `--as-of 31/12` with its one line and exit code 2. `answer_lang`: the `--lang` option.
    `question`: the command's question, audited if the assistant cannot be opened."""
    from assistant.api import Assistant

    settings = None
    try:
        settings = load_settings(
            labels=OPTION_NAMES,
            model=model,
            database=db,
            as_of=as_of,
            role=role,
            engine=engine,
            lang=answer_lang,
        )
        return Assistant.open(settings=settings)
    except CockpitError as err:
        lang = lang or (settings.lang if settings else "zh")
        if question is not None:
            if settings is not None:
                where, who = settings.cache_dir, settings.role
            else:
                where = configured_cache_dir(err if isinstance(err, SettingsError) else None)
                who = role or os.environ.get("COCKPIT_ROLE") or None
            _audit_unasked(question, who, err, lang, where)
        _fail(err, lang)


def _print_answer(answer, as_json: bool, show_sql: bool) -> None:
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    if answer.status != "ok":
        typer.echo(answer.message)
        if answer.suggestions:
            hint = "可以这样问：" if answer.lang == "zh" else "You could ask:"
            typer.echo(hint)
            for suggestion in answer.suggestions:
                typer.echo(f"  · {suggestion.text}")
        return
    if answer.restatement.get(answer.lang):
        # First line: what was computed, to check at a glance.
        typer.echo(
            ("口径：" if answer.lang == "zh" else "Computed: ") + answer.restatement[answer.lang]
        )
    typer.echo(answer.narrative)
    typer.echo("")
    _print_rows(answer, limit=50)
    typer.echo("")
    typer.echo(answer.interpretation)
    if show_sql:
        typer.echo("")
        typer.echo(answer.sql or "")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="a question in Chinese or English")],
    as_json: Annotated[bool, typer.Option("--json", help="print the whole Answer as JSON")] = False,
    show_sql: Annotated[bool, typer.Option("--sql", help="also print the SQL")] = False,
    as_of: AsOfOpt = None,
    role: RoleOpt = None,
    engine: EngineOpt = None,
    lang: Lang = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """Ask one question: 「2025年各区域的毛利率」, "revenue by month last year"."""
    from assistant.understand.resolve import language

    try:
        settings = load_settings(labels=OPTION_NAMES, lang=lang)
    except SettingsError as err:  # audited too: every question the command receives is
        who = role or os.environ.get("COCKPIT_ROLE") or None
        _audit_unasked(question, who, err, err.lang or "zh", configured_cache_dir(err))
        _settings_failed(err)
    answer_lang = _answer_language(settings, lang)
    assistant = _assistant(
        model,
        db,
        as_of,
        role,
        engine,
        lang=answer_lang or language(question, settings.lang),
        answer_lang=lang,
        question=question,
    )
    answer = assistant.ask(question, lang=answer_lang)
    _print_answer(answer, as_json, show_sql)
    if answer.status == "error":
        raise typer.Exit(1)


@app.command()
def chat(
    as_of: AsOfOpt = None,
    show_sql: Annotated[bool, typer.Option("--sql", help="also print the SQL")] = False,
    role: RoleOpt = None,
    engine: EngineOpt = None,
    lang: Lang = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """An interactive conversation: follow-ups like 「华南呢?」 or "by month" edit the last answer."""
    answer_lang = _answer_language(_settings(lang=lang), lang)
    assistant = _assistant(model, db, as_of, role, engine, lang=answer_lang, answer_lang=lang)
    conversation = assistant.conversation()
    typer.echo(
        "Cockpit — 输入问题，空行或 exit 退出。Type a question; an empty line or 'exit' quits."
    )
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question or question.lower() in ("exit", "quit", "退出"):
            break
        if question.lower() in ("reset", "重新开始"):
            conversation.reset()
            continue
        _print_answer(conversation.ask(question, lang=answer_lang), False, show_sql)
        typer.echo("")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="report.html or report.md")],
    period: Annotated[
        str | None, typer.Option(metavar="PERIOD", help="2025-12, 2025-Q4, 2025, 上月…")
    ] = None,
    lang: Lang = None,
    as_of: AsOfOpt = None,
    role: RoleOpt = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """Export the executive summary (经营简报) with charts to HTML or Markdown."""
    from assistant.insights.report import write_report

    settings = _settings(lang=lang)
    assistant = _assistant(model, db, as_of, role)
    try:
        path = write_report(assistant, period, out, settings.lang)
    except CockpitError as err:
        _fail(err, settings.lang)
    typer.echo(str(path))


@app.command()
def alerts(
    as_of: AsOfOpt = None,
    lang: Lang = None,
    role: RoleOpt = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """Evaluate every alert rule (智能预警) for the as-of month; exit 2 if a critical one fires."""
    from assistant.insights.alerts import evaluate_alerts

    settings = _settings(lang=lang)
    assistant = _assistant(model, db, as_of, role)
    try:
        fired = evaluate_alerts(assistant.model, assistant.engine, assistant.as_of)
    except CockpitError as err:
        _fail(err, settings.lang)
    if not fired:
        typer.echo(
            f"{assistant.as_of}: " + ("没有触发的预警" if settings.lang == "zh" else "no alerts")
        )
        return
    for alert in fired:
        typer.echo(f"[{alert.severity}] {alert.message(settings.lang)}")
    if any(a.severity == "critical" for a in fired):
        raise typer.Exit(2)


@app.command()
def init(
    data: Annotated[
        list[Path], typer.Argument(help="CSV, Excel, Parquet or DuckDB files, or folders")
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="FOLDER", help="folder for data.duckdb and model.yaml")
    ] = Path("cockpit-data"),
    name: Annotated[str, typer.Option(metavar="NAME", help="the model's name")] = "my_data",
    force: Annotated[
        bool, typer.Option("--force", help="overwrite an existing model, database, cockpit.toml")
    ] = False,
    lang: Lang = None,
) -> None:
    """Load your files into DuckDB and draft a semantic model for them (then check and ask).

    Also writes a cockpit.toml in the folder, so a plain `cockpit ask` run there uses them."""
    import shlex

    from semantic_layer.draft import init_project

    settings = _settings(lang=lang)
    try:
        result = init_project(list(data), out, name=name, overwrite=force)
    except CockpitError as err:
        _fail(err, settings.lang)
    typer.echo(result.report.render(settings.lang))
    for issue in result.issues:
        typer.echo(issue.message(settings.lang), err=True)
    zh = settings.lang == "zh"
    typer.echo(("\n数据库：" if zh else "\ndatabase: ") + str(result.database))
    typer.echo(("模型：" if zh else "model: ") + str(result.model))
    if result.config is not None:
        typer.echo(("配置：" if zh else "config: ") + str(result.config))
        # Environment variables win over the file: say so, or the hint would seem to fail.
        hint = (
            "在该文件夹中直接提问（环境变量 COCKPIT_MODEL / COCKPIT_DATABASE 优先）："
            if zh
            else "ask in that folder (COCKPIT_MODEL / COCKPIT_DATABASE, if set, take precedence):"
        )
        typer.echo(f'{hint}\n  cd {shlex.quote(str(out))} && cockpit ask "…"')
    else:
        typer.echo(f'cockpit ask "…" --db {result.database} --model {result.model}')
    if not result.ok:
        raise typer.Exit(1)


board_app = typer.Typer(
    cls=_Commands, help="The 驾驶舱 board: pinned answers re-run on current data."
)
app.add_typer(board_app, name="board")


def _board_filters(where: list[str] | None) -> list[dict] | None:
    """Board-wide filters `--where dimension=value` (each tile that reaches the dimension)."""
    if not where:
        return None
    filters = [_parse_filter(w) for w in where]
    for f in filters:
        if f.get("op", "=") not in ("=", "in"):
            raise typer.BadParameter(f"a board filter is dimension=value, not {f['op']}")
    return [{"dimension": f["dimension"], "values": f["values"]} for f in filters]


def _store():
    from assistant.board import BoardStore

    return BoardStore()


@board_app.command("list")
def board_list(role: RoleOpt = None, db: DbOpt = None) -> None:
    """The boards of a role."""
    for board in _store().list_boards(role):
        typer.echo(getattr(board, "name", board))


@board_app.command("show")
def board_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="board name")] = "default",
    period: Annotated[
        str | None, typer.Option(metavar="PERIOD", help="this_month, last_month, ytd…")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where", "-w", metavar="FILTER", help="filter the whole board: dimension=value"
        ),
    ] = None,
    role: RoleOpt = None,
    lang: Lang = None,
    db: DbOpt = None,
) -> None:
    """Re-run a board on the current data and print its tiles."""
    from assistant.board import BoardError, default_board
    from assistant.push import render_board

    settings = _settings(lang=lang)
    assistant = _assistant(None, db, None, role)
    filters = _board_filters(where)
    try:
        try:
            board = _store().get(name, role)
        except BoardError:
            board = default_board(assistant)  # the shipped demo board, until one is stored
            if board is None or board.name != name:
                raise
        typer.echo(
            render_board(assistant, board, period=period, filters=filters, lang=settings.lang).text
        )
    except (BoardError, CockpitError) as err:
        _fail(err, settings.lang)


@board_app.command("pin")
def board_pin(
    question: Annotated[str, typer.Argument(help="the question whose answer to pin")],
    board: Annotated[
        str | None, typer.Option(metavar="NAME", help="board name (default: the role's first)")
    ] = None,
    role: RoleOpt = None,
    db: DbOpt = None,
) -> None:
    """Pin the answer to a question (its query, not its numbers) to a board."""
    from assistant.board import BoardError, pin_answer
    from assistant.understand.resolve import language

    lang = language(question)
    assistant = _assistant(None, db, None, role, lang=lang)
    try:
        pinned = pin_answer(_store(), assistant, assistant.ask(question), board=board)
    except (BoardError, CockpitError) as err:
        _fail(err, lang)
    lang_board = getattr(pinned, "board", None) or board or "default"
    typer.echo(f"已钉到看板 / pinned to board: {lang_board}: {pinned.question}")


@board_app.command("export")
def board_export(
    name: Annotated[str, typer.Argument(metavar="NAME", help="board name")] = "default",
    role: RoleOpt = None,
) -> None:
    """Print a board as YAML (to share or version it)."""
    from assistant.board import BoardError, export_yaml

    try:
        typer.echo(export_yaml(_store().get(name, role)))
    except BoardError as err:
        _fail(err, _settings().lang)


@board_app.command("import")
def board_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="a board YAML file")],
    role: RoleOpt = None,
) -> None:
    """Load a board from a YAML file."""
    from assistant.board import BoardError

    try:
        board = _store().import_yaml(file.read_text(encoding="utf-8"), role)
    except (BoardError, OSError) as err:
        if isinstance(err, OSError):
            typer.echo(str(err), err=True)
            raise typer.Exit(1) from None
        _fail(err, _settings().lang)
    typer.echo(getattr(board, "name", str(board)))


@app.command()
def push(
    to: Annotated[
        str, typer.Option("--to", metavar="TARGET", help="webhook:URL or email:ADDR[,ADDR]")
    ],
    board: Annotated[
        str, typer.Option("--board", metavar="NAME", help="a board name, or 'summary'")
    ] = "default",
    period: Annotated[
        str | None, typer.Option(metavar="PERIOD", help="this_month, last_month, ytd, 2025-12…")
    ] = None,
    fmt: Annotated[
        Literal["generic", "wecom", "dingtalk", "slack", "teams"],
        typer.Option("--format", help="the webhook's message shape (chat tool)"),
    ] = "generic",
    where: Annotated[
        list[str] | None,
        typer.Option("--where", "-w", metavar="FILTER", help="filter the board: dimension=value"),
    ] = None,
    role: RoleOpt = None,
    lang: Lang = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """Render a board or the executive summary and deliver it (报表推送); for cron."""
    from assistant.board import BoardError
    from assistant.push import PushError
    from assistant.push import push as deliver_push

    settings = _settings(lang=lang)
    assistant = _assistant(model, db, None, role)
    filters = _board_filters(where)
    try:
        result = deliver_push(
            assistant, board, to, period=period, fmt=fmt, lang=settings.lang, filters=filters
        )
    except (PushError, BoardError, CockpitError) as err:
        _fail(err, settings.lang)
    typer.echo(f"{result.detail} ({result.attempts} attempt(s))")


importer = typer.Typer(cls=_Commands, help="Import a dbt MetricFlow project or a Cube data model.")
app.add_typer(importer, name="import")


def _import(kind: str, path: Path, out: Path | None, as_json: bool, lang: str | None) -> None:
    from semantic_layer.importers.cube import import_cube
    from semantic_layer.importers.dbt import import_dbt

    settings = _settings(lang=lang)
    try:
        text, report = (import_dbt if kind == "dbt" else import_cube)(path)
    except CockpitError as err:
        _fail(err, settings.lang)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
    summary = (
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
        if as_json
        else report.text(settings.lang)
    )
    typer.echo(summary, err=out is None)
    if out is not None:
        step = "下一步" if settings.lang == "zh" else "next"
        typer.echo(f"→ {out}; {step}: cockpit check {out} --db YOUR.duckdb")


@importer.command("dbt")
def import_dbt_command(
    path: Annotated[Path, typer.Argument(help="dbt project folder (or one semantic YAML file)")],
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="write the Cockpit model here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    lang: Lang = None,
) -> None:
    """Convert dbt MetricFlow semantic models and metrics into a Cockpit model."""
    _import("dbt", path, out, as_json, lang)


@importer.command("cube")
def import_cube_command(
    path: Annotated[Path, typer.Argument(help="Cube model folder (or one YAML file)")],
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="write the Cockpit model here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    lang: Lang = None,
) -> None:
    """Convert Cube cubes (YAML) into a Cockpit model."""
    _import("cube", path, out, as_json, lang)


@app.command()
def doctor(model: ModelOpt = None, db: DbOpt = None, lang: Lang = None) -> None:
    """Check the configuration: data, model, as-of date, cache, and whether the LLM answers.

    Exit code 1 when something configured does not work (the database is missing, the LLM
    endpoint does not answer); no LLM configured is fine: the offline rules answer."""
    from assistant.doctor import database_status, llm_status

    settings = _settings(model=model, database=db, lang=lang)
    try:
        semantic_model = load_model(settings.model)
    except CockpitError as err:
        _fail(err, settings.lang)
    database = database_status(settings)
    llm = llm_status(settings, check=True)
    typer.echo(f"database : {database.message}")
    typer.echo(
        f"model    : {settings.model or 'demo'} ({len(semantic_model.metrics)} metrics, "
        f"{len(semantic_model.dimensions)} dimensions)"
    )
    typer.echo(f"as of    : {settings.resolved_as_of(semantic_model.as_of)}")
    typer.echo(f"cache    : {settings.cache_dir}")
    typer.echo(f"llm      : {llm.message}")
    embedding = settings.embedding_model or "hashed character n-grams (offline)"
    typer.echo(f"embedding: {embedding}")
    failed = [
        name for name, ok in (("database", database.ok), ("llm", llm.reachable)) if ok is False
    ]
    if failed:
        zh = settings.lang == "zh"
        names = ", ".join(failed)
        typer.echo(f"不能使用：{names}" if zh else f"not working: {names}", err=True)
        raise typer.Exit(1)


@app.command(name="app")
def run_app(
    port: Annotated[int, typer.Option(metavar="PORT", help="port to serve on")] = 8501,
) -> None:
    """Start the Streamlit app on the demo data (or on COCKPIT_DATABASE)."""
    script = Path(__file__).resolve().parent.parent / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    raise typer.Exit(subprocess.call(command))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
