"""The Makefile's stage rules, written from the table of stages (pipeline.app.stages) by `make-vars`.

Each stage becomes a file target: the first file it writes (render: the output folder's manifest.json),
due when a file it reads, a module it runs, a config or wave file it names or one of its other inputs
changed. The recipe of a stage only notes it as due (the Makefile's `due`); the report's recipe then runs the
earliest due stage and every later one in one process. The make variables used here (PROCESSED, OUT,
WAVE_DIR, COMMON, DUE, ...) are the Makefile's."""

from __future__ import annotations

from pipeline.core.stage import Stage

# The make expression of each of a stage's other inputs (pipeline.core.stage.SOURCES).
SOURCE_PREREQUISITES = {
    "export": "$(if $(wildcard $(EXPORT)),$(EXPORT),missing-export) $(INGEST_ARGS)",
    "supplement": "$(SUPPLEMENT)",
    "previous tables": "$(wildcard $(WAVE_PREVIOUS_TABLES))",
    "templates": "$(RENDER_ARGS) $(wildcard templates/*) $(if $(TEMPLATES),$(wildcard $(TEMPLATES)/*))",
    "texts": "$(wildcard texts/*.md) $(if $(TEXTS),$(wildcard $(TEXTS)/*.md))",
}

RUN_RECIPE = ('\t@$(PY) run --wave "$(WAVE)" --from $$(cat "$(DUE)" 2>/dev/null || echo {last}) --export "$(EXPORT)" \\\n'
              '\t\t$(if $(SUPPLEMENT),--supplement "$(SUPPLEMENT)") --processed "$(PROCESSED)" --out "$(OUT)" \\\n'
              '\t\t$(if $(TEMPLATES),--templates "$(TEMPLATES)") $(if $(TEXTS),--texts "$(TEXTS)") && rm -f "$(DUE)"\n')


def _files(stage: Stage) -> list[str]:
    return [w for w in stage.writes if not w.endswith("/")]


def target_of(stage: Stage) -> str:
    """The make target of a stage: the first file it writes, or the report's manifest."""
    files = _files(stage)
    return f"$(PROCESSED)/{files[0]}" if files else "$(OUT)/manifest.json"


def stage_rules(stages: tuple[Stage, ...]) -> str:
    """The rules of every stage, as make text."""
    # A file a stage reads is represented by the target of the stage that writes it.
    writer = {f: stage for stage in stages for f in _files(stage)}
    lines = []
    for stage in stages:
        prerequisites = [target_of(writer[f]) if f in writer and writer[f] is not stage else f"$(PROCESSED)/{f}"
                         for f in stage.reads]
        prerequisites = list(dict.fromkeys(prerequisites))
        prerequisites += [f"pipeline/{m}.py" for m in stage.modules]
        prerequisites += [f"config/{c}" for c in stage.config]
        prerequisites += [f"$(wildcard $(WAVE_DIR)/{w})" for w in stage.wave]
        prerequisites += [SOURCE_PREREQUISITES[s] for s in stage.sources]
        prerequisites.append("$(COMMON)")
        target = target_of(stage)
        body = " \\\n\t\t".join(" ".join(prerequisites[i:i + 4]) for i in range(0, len(prerequisites), 4))
        if target.startswith("$(OUT)"):
            lines.append(f"{target}: {body} $(wildcard $(DUE))\n" + RUN_RECIPE.format(last=stage.name))
        else:
            lines.append(f"{target}: {body}\n\t$(call due,{stage.name})\n")
    return "\n".join(lines)
