"""Stage 1: a scenario file becomes a validated, frozen `Scenario`.

source (read the file) -> render (Jinja2 sandbox) -> yamlload (YAML with positions)
-> schema (JSON Schema) -> build (typed model) -> semantic (cross-object checks),
tied together by `pipeline`. Every problem is collected as a located finding.
"""
