"""User-facing failures: one root error, one subclass per phase, every message in zh and en.

A user's mistake (unknown metric, impossible breakdown, malformed YAML) is reported as a value
with a clear message and suggestions; a bug in our code stays an ordinary exception. Messages
live in one catalog so a test can check that every kind has both languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import process

# code -> (zh template, en template). Placeholders are filled with str.format(**params).
MESSAGES: dict[str, tuple[str, str]] = {
    # --- model loading and validation ---
    "yaml_syntax": ("YAML 语法错误：{detail}", "YAML syntax error: {detail}"),
    "file_missing": ("找不到模型文件：{path}", "Model file not found: {path}"),
    "schema": ("字段 {field} 有误：{detail}", "Field {field} is invalid: {detail}"),
    "duplicate_name": (
        "{kind}名称重复：{name}（首次定义在第 {first_line} 行）",
        "Duplicate {kind_en} name: {name} (first defined at line {first_line})",
    ),
    "unknown_table": ("未知的表：{name}", "Unknown table: {name}"),
    "unknown_column": ("表 {table} 中没有列 {name}", "Table {table} has no column {name}"),
    "unknown_metric_ref": (
        "指标 {metric} 的表达式引用了未知指标：{name}",
        "Metric {metric} refers to an unknown metric: {name}",
    ),
    "unknown_dimension_ref": (
        "{owner} 引用了未知维度：{name}",
        "{owner} refers to an unknown dimension: {name}",
    ),
    "unknown_metric_in": (
        "{owner} 引用了未知指标：{name}",
        "{owner} refers to an unknown metric: {name}",
    ),
    "metric_cycle": ("派生指标存在循环引用：{chain}", "Derived metrics form a cycle: {chain}"),
    "synonym_collision": (
        "同义词「{word}」同时指向 {first} 和 {second}，提问时会产生歧义",
        "Synonym '{word}' points to both {first} and {second}; questions would be ambiguous",
    ),
    "join_disconnected": (
        "关联 {from_table} → {to} 无法连接：{detail}",
        "Join {from_table} → {to} does not connect: {detail}",
    ),
    "table_unreachable": (
        "表 {table} 与指标所在的表之间没有关联路径：{owner} 无法使用",
        "Table {table} has no join path from the metric's table: {owner} cannot be used",
    ),
    "bad_expression": (
        "{owner} 的表达式无法解析：{detail}",
        "The expression of {owner} cannot be parsed: {detail}",
    ),
    "join_orphans": (
        "关联 {from_table} → {to} 标记为 required，但有 {count} 行找不到对应的 {to}",
        "Join {from_table} → {to} is marked required, but {count} rows have no match in {to}",
    ),
    "check_failed": (
        "指标 {metric} 在数据库上执行失败：{detail}",
        "Metric {metric} failed on the database: {detail}",
    ),
    "unsafe_expression": (
        "{owner} 的表达式不允许使用：{reason}（模型里的表达式与查询经过同一道 SQL 安全检查）",
        "The expression of {owner_en} is not allowed: {reason_en} (model expressions pass the "
        "same SQL guard as queries)",
    ),
    "dimension_check_failed": (
        "维度 {dimension} 在数据库上执行失败：{detail}",
        "Dimension {dimension} failed on the database: {detail}",
    ),
    "policy_leak": (
        "角色 {role} 看不到{hidden}，但仍能从表 {table} 读到同类数据：{via}。"
        "请在该角色上也加以限制，例如 {fix}",
        "Role {role} cannot see {hidden_en}, but can still read the same kind of data in table "
        "{table}: {via_en}. Restrict it there too, e.g. {fix}",
    ),
    "model_invalid": (
        "语义模型有 {count} 个问题，无法加载",
        "The semantic model has {count} problem(s) and cannot be loaded",
    ),
    # --- queries ---
    "unknown_metric": ("未知指标：{name}", "Unknown metric: {name}"),
    "unknown_dimension": ("未知维度：{name}", "Unknown dimension: {name}"),
    "unreachable_dimension": (
        "指标「{metric_label}」无法按「{dimension_label}」分析：两者之间没有业务关联。"
        "该指标可用的维度：{allowed}。可以按「{dimension_label}」分析的指标：{related}",
        "Metric '{metric_label_en}' cannot be broken down by '{dimension_label_en}': they are "
        "not related in the data. Dimensions it can use: {allowed_en}. Metrics that can be "
        "broken down by '{dimension_label_en}': {related_en}",
    ),
    "bad_grain": (
        "维度「{dimension}」不是时间维度，不能按 {grain} 汇总",
        "Dimension '{dimension}' is not a time dimension and has no {grain} grain",
    ),
    "bad_filter_value": (
        "维度「{dimension}」的筛选值无效：{value}",
        "Invalid filter value for dimension '{dimension}': {value}",
    ),
    "unknown_order_field": (
        "无法按「{name}」排序：它不在查询结果中",
        "Cannot sort by '{name}': it is not a column of the result",
    ),
    "no_budget": (
        "指标「{metric_label}」没有对应的预算，无法做预算对比",
        "Metric '{metric_label_en}' has no budget to compare against",
    ),
    "needs_period": (
        "指标「{metric_label}」需要一个明确的期间（时间范围或时间粒度）才能计算",
        "Metric '{metric_label_en}' needs a period (a time range or a time grain) to compute",
    ),
    "invalid_query": ("查询无效：{detail}", "Invalid query: {detail}"),
    "data_file_missing": ("找不到数据文件：{path}", "Data file not found: {path}"),
    "data_file_unsupported": (
        "不支持的文件类型：{name}（支持 CSV、Excel .xlsx、Parquet、DuckDB）",
        "Unsupported file type: {name} (use CSV, Excel .xlsx, Parquet or DuckDB)",
    ),
    "data_file_unreadable": ("无法读取 {name}：{detail}", "{name} cannot be read: {detail}"),
    "unknown_role": (
        "未知角色：{name}（可用角色：{roles}）",
        "Unknown role: {name} (roles: {roles})",
    ),
    "sql_rejected": (
        "生成的 SQL 未通过安全检查：{reason}",
        "The generated SQL did not pass the safety check: {reason}",
    ),
    # --- execution ---
    "database_missing": ("找不到数据库文件：{path}", "Database file not found: {path}"),
    "cache_unwritable": (
        "无法写入缓存目录 {path}，演示数据无法生成。请设置 COCKPIT_CACHE_DIR 为可写目录，或用 COCKPIT_DATABASE 指定数据库。",
        "Cannot write the cache directory {path}, so the demo data cannot be built. Set "
        "COCKPIT_CACHE_DIR to a writable folder, or COCKPIT_DATABASE to a database file.",
    ),
    "database_corrupt": (
        "数据库文件无法打开（可能已损坏或不是 DuckDB 文件）：{path}",
        "The database file cannot be opened (corrupt, or not a DuckDB file): {path}",
    ),
    "query_timeout": (
        "查询超过 {seconds} 秒的时间限制，已中止。请缩小时间范围或减少拆分维度。",
        "The query exceeded the {seconds}-second limit and was stopped. Narrow the period or "
        "use fewer breakdowns.",
    ),
    "database_error": ("数据库执行出错：{detail}", "The database reported an error: {detail}"),
    "period_days_all_time": (
        "按天平均的指标（如周转天数、日均）需要一个期间，例如「今年」或「2024年」，不能对全部时间计算。",
        "A per-day metric (days outstanding, daily average) needs a period, such as 'this year' "
        "or '2024' — not all time.",
    ),
    "no_kpis": (
        "这个期间没有可以汇总的指标（没有数据，或当前角色无权查看）。请换个期间，或直接问某个指标。",
        "There is no metric to summarise for this period (no data, or none the role may see). "
        "Try another period, or ask for one metric.",
    ),
    "listing_needs_metric": (
        "「{name}」只能和指标一起看（例如按月的收入），不能单独列出。",
        "'{name}' is read with a metric (revenue by month, say), not listed on its own.",
    ),
    "listing_unrelated": (
        "{names} 在数据中没有关联，无法一起列出。",
        "{names} are not related in the data, so they cannot be listed together.",
    ),
    "definition_clash": (
        "问题中定义的指标名「{name}」与指标中心已有的指标重名，请换个名字。",
        "The metric defined in the question, '{name}', has the name of a catalogue metric; "
        "please call it something else.",
    ),
    "definition_unknown": (
        "问题中定义的「{name}」用到了指标中心没有的指标：{refs}。",
        "'{name}', defined in the question, uses metrics the catalogue does not have: {refs}.",
    ),
    "result_too_large": (
        "结果太大（超过 {mb} MB 的上限），已中止。请加筛选条件、缩小时间范围或只取前 N 名。",
        "The result is too large (over the {mb} MB limit) and was stopped. Add a filter, narrow "
        "the period or ask for the top N only.",
    ),
    "out_of_memory": (
        "查询所需内存超过上限（{limit}），已中止。请缩小时间范围或减少拆分维度。",
        "The query needed more memory than the limit ({limit}) and was stopped. Narrow the "
        "period or use fewer breakdowns.",
    ),
    # --- configuration the program cannot run with (usage errors: the CLI exits with 2) ---
    "memory_limit_refused": (
        "DuckDB 不接受内存上限 {value!r}（COCKPIT_MEMORY_LIMIT）：{detail}。数据库文件本身没有问题；"
        "请改用 16MB 到 1000TB 之间的值，例如 2GB。",
        "DuckDB refused the memory limit {value!r} (COCKPIT_MEMORY_LIMIT): {detail}. The database "
        "file is fine; use a size from 16MB to 1000TB, such as 2GB.",
    ),
    "temp_dir_refused": (
        "DuckDB 不接受溢出目录 {value}（COCKPIT_TEMP_DIR）：{detail}。数据库文件本身没有问题；"
        "请改用一个可写的文件夹。",
        "DuckDB refused the spill folder {value} (COCKPIT_TEMP_DIR): {detail}. The database file "
        "is fine; use a writable folder.",
    ),
    "secret_is_folder": (
        "假名密钥 {path}（{origin_zh}）是文件夹；它应是一个 32 字节随机密钥的文件，首次使用时生成。"
        "请把 COCKPIT_SECRET_FILE 指向一个文件路径。",
        "The pseudonym secret {path} ({origin}) is a folder; it must be a file of 32 random "
        "bytes, created on first use. Point COCKPIT_SECRET_FILE at a file path.",
    ),
    "secret_too_short": (
        "假名密钥 {path}（{origin_zh}）只有 {size} 字节；它应是 32 字节的随机密钥（已损坏或被截断）。"
        "删除它即可重新生成（脱敏名称的代号会随之改变），或把 COCKPIT_SECRET_FILE 指向别的文件。",
        "The pseudonym secret {path} ({origin}) holds {size} bytes; it must be 32 random bytes "
        "(it is damaged or truncated). Delete it to generate a new one (masked names then get new "
        "pseudonyms), or point COCKPIT_SECRET_FILE at another file.",
    ),
    "secret_unreadable": (
        "假名密钥 {path}（{origin_zh}）无法读取（{detail}）；它应是当前用户可读的 32 字节密钥文件。"
        "请修正它的权限，或删除它以重新生成，或把 COCKPIT_SECRET_FILE 指向别的文件。",
        "The pseudonym secret {path} ({origin}) cannot be read ({detail}); it must be a file of "
        "32 bytes this user can read. Fix its permissions, delete it to generate a new one, or "
        "point COCKPIT_SECRET_FILE at another file.",
    ),
    "secret_uncreatable": (
        "无法创建假名密钥 {path}（{origin_zh}）：{detail}。请把 COCKPIT_SECRET_FILE 指向一个可写文件夹中的文件。",
        "The pseudonym secret {path} ({origin}) cannot be created: {detail}. Point "
        "COCKPIT_SECRET_FILE at a file in a writable folder.",
    ),
}


def render(code: str, lang: str, params: dict[str, object]) -> str:
    """Fill the catalog template for `code` in `lang` ("zh" or "en")."""
    zh, en = MESSAGES[code]
    return (zh if lang == "zh" else en).format(**params)


@dataclass(frozen=True)
class Issue:
    """One problem found in a model, with where it is and what to do about it."""

    code: str
    params: dict[str, object] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None
    suggestions: tuple[str, ...] = ()
    severity: str = "error"

    def message(self, lang: str = "zh") -> str:
        where = f"{self.file or '<model>'}:{self.line}: " if self.line else ""
        text = where + render(self.code, lang, self.params)
        if self.suggestions and lang == "zh":
            text += "（你是不是想用：" + "、".join(self.suggestions) + "）"
        elif self.suggestions:
            text += " (did you mean: " + ", ".join(self.suggestions) + ")"
        return text


class CockpitError(Exception):
    """Root of every error a user can cause. `message(lang)` is what the user sees."""

    def __init__(
        self,
        code: str,
        suggestions: Sequence[str] = (),
        issues: Sequence[Issue] = (),
        **params: object,
    ) -> None:
        self.code = code
        self.params = params
        self.suggestions = tuple(suggestions)
        self.issues = tuple(issues)
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        head = Issue(self.code, self.params, suggestions=self.suggestions).message(lang)
        if not self.issues:
            return head
        return "\n".join([head, *(f"  - {i.message(lang)}" for i in self.issues)])


class ModelError(CockpitError):
    """The semantic model cannot be loaded; `issues` lists every problem found."""


class QueryError(CockpitError):
    """A SemanticQuery cannot be answered exactly by this model."""


class ExecutionError(CockpitError):
    """The database could not run a statement."""


class ConfigError(CockpitError):
    """A configured value the program cannot run with (a memory limit DuckDB refuses, a broken
    secret file): a usage error, like a bad setting — the CLI prints it and exits with code 2."""


def closest(word: str, choices: Iterable[str], limit: int = 3, cutoff: float = 60) -> list[str]:
    """The few names a user most likely meant, for "did you mean" suggestions."""
    found = process.extract(word, list(choices), limit=limit, score_cutoff=cutoff)
    return [name for name, _score, _index in found]
