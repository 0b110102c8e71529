"""The semantic layer (指标中心): governed metrics compiled to SQL and run on DuckDB."""

from semantic_layer.compiler import CompiledQuery, compile_query
from semantic_layer.engine import DuckDBEngine, Result
from semantic_layer.errors import CockpitError, ModelError, QueryError
from semantic_layer.loader import load_model, read_model
from semantic_layer.model import SemanticModel
from semantic_layer.query import SemanticQuery

__all__ = [
    "CockpitError",
    "CompiledQuery",
    "DuckDBEngine",
    "ModelError",
    "QueryError",
    "Result",
    "SemanticModel",
    "SemanticQuery",
    "compile_query",
    "load_model",
    "read_model",
]
