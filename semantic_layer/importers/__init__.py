"""Importers: turn other semantic layers into a Cockpit model YAML, reporting what did not fit.

`dbt.import_dbt(project_dir)` reads a dbt MetricFlow project (semantic models and metrics);
`cube.import_cube(path)` reads Cube data models (cubes and views YAML). Both return the model
YAML text and an `ImportReport` listing every element mapped and every element left out, with
the reason. The report types and the model assembly both importers share live in `common.py`.
"""
