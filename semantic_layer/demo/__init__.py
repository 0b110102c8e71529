"""The embedded demo company 华锐科技: its data generator and its semantic model."""

from __future__ import annotations

from pathlib import Path

# Bump when the generator changes its output, so cached demo databases are rebuilt.
DEMO_VERSION = 1
DEMO_SEED = 42


def demo_database(cache_dir: Path, scale: int = 1, seed: int = DEMO_SEED) -> Path:
    """The demo database in `cache_dir`, generated on first use and reused afterwards."""
    path = Path(cache_dir) / f"demo-v{DEMO_VERSION}-scale{scale}-seed{seed}.duckdb"
    if not path.exists():
        from semantic_layer.demo.generate import generate
        from semantic_layer.errors import ExecutionError

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            generate(path, scale=scale, seed=seed)
        except OSError as err:
            raise ExecutionError(
                "cache_unwritable", path=str(path.parent), detail=str(err)
            ) from None
    return path
