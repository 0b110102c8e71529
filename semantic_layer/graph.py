"""The join graph: which tables a fact table can reach through many-to-one joins.

Walking joins only from the many side to the one side is what makes a query safe from
fan-out: every joined table contributes at most one row per fact row. A table that holds
several rows per key (parties of an agreement, one per role) is reached only as a role: the
rows meeting a role dimension's `where`, under their own alias (`SemanticModel.role_joins`). The shortest path wins;
among equally short paths the join declared first in the model wins, so results are stable.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from semantic_layer.model import Join, SemanticModel


@dataclass(frozen=True)
class JoinPath:
    """The joins to walk, in order, from a base table to `table`."""

    table: str
    joins: tuple[Join, ...]


class JoinGraph:
    """Many-to-one edges of one model, with cached breadth-first trees per base table."""

    def __init__(self, model: SemanticModel) -> None:
        self._edges: dict[str, list[Join]] = {}
        # A role dimension's rows (`Dimension.where`) are a node of their own, reached by the
        # joins into the role's table: filtered to one role, the table is many-to-one again.
        for join in [*model.joins, *model.role_joins]:
            self._edges.setdefault(join.from_table, []).append(join)
        self.paths_from = lru_cache(maxsize=None)(self._paths_from)

    def _paths_from(self, base: str) -> dict[str, JoinPath]:
        """Every table reachable from `base`, each with its shortest join path."""
        paths = {base: JoinPath(base, ())}
        queue = deque([base])
        while queue:
            table = queue.popleft()
            for join in self._edges.get(table, []):
                if join.to not in paths:
                    paths[join.to] = JoinPath(join.to, (*paths[table].joins, join))
                    queue.append(join.to)
        return paths

    def reachable(self, base: str, table: str) -> bool:
        return table in self.paths_from(base)

    def distance(self, base: str, table: str) -> int | None:
        path = self.paths_from(base).get(table)
        return None if path is None else len(path.joins)
