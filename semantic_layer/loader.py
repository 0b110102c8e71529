"""Load a semantic model from YAML (one file, or a folder of files), reporting every problem.

A model author fixes problems in a loop; reporting one error per run wastes their time. So we
validate item by item, keep going past broken items, and tag every problem with file:line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from semantic_layer.errors import Issue, ModelError
from semantic_layer.model import (
    Alert,
    Dimension,
    Join,
    Knowledge,
    Metric,
    Role,
    SemanticModel,
    Table,
)

SECTIONS: dict[str, type[BaseModel]] = {
    "tables": Table,
    "joins": Join,
    "dimensions": Dimension,
    "metrics": Metric,
    "roles": Role,
    "alerts": Alert,
}
SCALARS = ("name", "label", "as_of", "currency")

DEMO_MODEL = Path(__file__).parent / "demo" / "model.yaml"
# libyaml's safe loader when installed (six times faster on the demo model), else the pure one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


class Locations:
    """Maps a path inside the merged model (("metrics", 3, "expr")) to the file and line."""

    def __init__(self) -> None:
        self._where: dict[Path_, tuple[str, int]] = {}
        # For each section, the position in the YAML of each item that passed the schema,
        # so that checks on the loaded model can point back at the right lines.
        self.kept: dict[str, list[int]] = {}

    def original_index(self, section: str, index: int) -> int:
        kept = self.kept.get(section)
        return kept[index] if kept is not None and index < len(kept) else index

    def entries(self) -> list[tuple[Path_, tuple[str, int]]]:
        return list(self._where.items())

    def add(self, path: Path_, file: str, line: int) -> None:
        self._where.setdefault(path, (file, line))

    def find(self, path: Path_) -> tuple[str | None, int | None]:
        """The most specific known location at or above `path`."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self._where:
                return self._where[path[:cut]]
        return None, None

    def issue(self, code: str, path: Path_, suggestions: list[str] | None = None, **params: Any):
        file, line = self.find(path)
        return Issue(code, params, file=file, line=line, suggestions=tuple(suggestions or ()))


def _walk(node: yaml.Node, path: Path_, file: str, out: Locations, issues: list[Issue]) -> None:
    out.add(path, file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                # YAML would silently keep the last one; a model author would lose the first.
                issues.append(
                    Issue(
                        "schema",
                        {
                            "field": ".".join(map(str, (*path, key.value))),
                            "detail": f"duplicate key (first at line {seen[key.value]})",
                        },
                        file=file,
                        line=line,
                    )
                )
            seen.setdefault(key.value, line)
            out.add((*path, key.value), file, line)
            _walk(value, (*path, key.value), file, out, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), file, out, issues)


def _read_file(path: Path, issues: list[Issue]) -> tuple[dict[str, Any], Locations] | None:
    """Parse one YAML file into data plus its node locations, or record why it cannot be."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        issues.append(
            Issue("yaml_syntax", {"detail": f"not UTF-8 text ({err.reason})"}, file=str(path))
        )
        return None
    except OSError as err:
        issues.append(Issue("file_missing", {"path": f"{path} ({err.strerror})"}))
        return None
    try:
        # Anchors and aliases are refused: a model needs none, and nested aliases can expand
        # exponentially (a "billion laughs" file would hang the loader).
        for token in yaml.scan(text, Loader=_LOADER):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                line = token.start_mark.line + 1
                issues.append(
                    Issue(
                        "yaml_syntax",
                        {"detail": "anchors and aliases (&, *) are not supported in a model"},
                        file=str(path),
                        line=line,
                    )
                )
                return None
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        detail = getattr(err, "problem", None) or str(err)
        line = mark.line + 1 if mark else None
        issues.append(Issue("yaml_syntax", {"detail": detail}, file=str(path), line=line))
        return None
    if not isinstance(data, dict):
        issues.append(
            Issue("schema", {"field": "<root>", "detail": "expected a mapping"}, file=str(path))
        )
        return None
    locations = Locations()
    _walk(node, (), str(path), locations, issues)
    return data, locations


def _files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted([*source.glob("*.yaml"), *source.glob("*.yml")])
    return [source]


def read_model(source: str | Path | None = None) -> tuple[SemanticModel | None, list[Issue]]:
    """Load and validate a model; return it (None if unusable) with every issue found."""
    model, issues, _locations = read_model_located(source)
    return model, issues


def read_model_located(
    source: str | Path | None = None,
) -> tuple[SemanticModel | None, list[Issue], Locations]:
    """`read_model`, plus where each part of the model was written (for later checks)."""
    from semantic_layer.validate import validate_model

    source = Path(source) if source is not None else DEMO_MODEL
    locations = Locations()
    if not source.exists():
        return None, [Issue("file_missing", {"path": str(source)})], locations
    issues: list[Issue] = []
    merged: dict[str, Any] = {section: [] for section in SECTIONS}
    for file in _files(source):
        parsed = _read_file(file, issues)
        if parsed is None:
            continue
        data, file_locations = parsed
        for key, value in data.items():
            if key in SECTIONS:
                if not isinstance(value, list):
                    issues.append(
                        file_locations.issue("schema", (key,), field=key, detail="expected a list")
                    )
                    continue
                offset = len(merged[key])
                for index, item in enumerate(value):
                    merged[key].append(item)
                    for path, where in file_locations.entries():
                        if path[:2] == (key, index):
                            locations.add((key, offset + index, *path[2:]), *where)
            elif key in SCALARS:
                merged.setdefault(key, value)
                locations.add((key,), *file_locations.find((key,)))
            elif key == "knowledge":
                # One mapping; with several files, later files add the parts not yet given.
                if not isinstance(value, dict):
                    issues.append(
                        file_locations.issue(
                            "schema", (key,), field=key, detail="expected a mapping"
                        )
                    )
                    continue
                for part, content in value.items():
                    merged.setdefault("knowledge", {}).setdefault(part, content)
                for path, where in file_locations.entries():
                    if path[:1] == (key,):
                        locations.add(path, *where)
            else:
                issues.append(
                    file_locations.issue(
                        "schema",
                        (key,),
                        field=key,
                        detail="unknown section",
                    )
                )
    if issues and all(i.code == "yaml_syntax" for i in issues) and not any(merged.values()):
        return None, issues, locations

    sections: dict[str, list[Any]] = {}
    for section, kind in SECTIONS.items():
        adapter = TypeAdapter(kind)
        good = []
        for index, item in enumerate(merged[section]):
            try:
                good.append(adapter.validate_python(item))
                locations.kept.setdefault(section, []).append(index)
            except ValidationError as err:
                issues.extend(_schema_issues(err, (section, index), locations))
        sections[section] = good
    scalars = {k: merged[k] for k in SCALARS if k in merged}
    scalars.setdefault("name", "model")
    try:
        known = Knowledge.model_validate(merged.get("knowledge", {}))
    except ValidationError as err:
        issues.extend(_schema_issues(err, ("knowledge",), locations))
        known = Knowledge()
    try:
        model = SemanticModel(**scalars, **sections, knowledge=known)
    except ValidationError as err:
        issues.extend(_schema_issues(err, (), locations))
        return None, issues, locations
    issues.extend(validate_model(model, locations))
    return model, issues, locations


def _schema_issues(err: ValidationError, prefix: Path_, locations: Locations) -> list[Issue]:
    out = []
    for problem in err.errors():
        path = (*prefix, *problem["loc"])
        field = ".".join(str(p) for p in path)
        out.append(locations.issue("schema", path, field=field, detail=problem["msg"]))
    return out


def load_model(source: str | Path | None = None) -> SemanticModel:
    """Load a model, raising `ModelError` that lists every problem if it is not valid."""
    model, issues = read_model(source)
    errors = [i for i in issues if i.severity == "error"]
    if model is None or errors:
        raise ModelError("model_invalid", issues=errors, count=len(errors))
    return model
