"""What a stage of the pipeline is and what it is handed: one Stage row per stage (pipeline.app.runner
holds the table) and the Context every stage's `run(ctx)` receives.

A stage takes the frames earlier stages of the same run gave (ctx.frame), or reads them from the processed
folder when it runs on its own; it says what it did with ctx.tell and ctx.warn and lists its files with
ctx.wrote. The table's rows say what each stage reads, writes and depends on, so that the runner, the
Makefile (through `make-vars`) and the command line all follow the same table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# The inputs of a stage outside the processed folder and the config folder, by name; make-vars turns each
# into the make expression of the wave's file (pipeline.app.cli).
SOURCES = ("export", "supplement", "previous tables", "templates", "texts")


@dataclass(frozen=True)
class Stage:
    name: str
    module: str                     # pipeline.<package>.<module>, whose run(ctx) is the stage
    modules: tuple[str, ...]        # <package>/<module> of the code it runs (its own module first)
    config: tuple[str, ...]         # files of the config folder it reads
    reads: tuple[str, ...]          # files in the processed folder it reads when it runs on its own
    writes: tuple[str, ...]         # files in the processed folder it writes; the first is its make target
    wave: tuple[str, ...] = ()      # files of the wave folder it reads (when they exist)
    sources: tuple[str, ...] = ()   # inputs named in SOURCES
    gives: tuple[str, ...] = ()     # frames it hands to the later stages of the run
    takes: tuple[str, ...] = ()     # frames of earlier stages it uses when they are in the run
    help: str = ""                  # what its command (`python -m pipeline <name>`) does
    options: tuple[str, ...] = ()   # the command's options beside --wave and --processed (the CLI's OPTIONS)


@dataclass
class Context:
    """A run's settings and paths, the frames handed from stage to stage, and what the run has said.

    `background` holds the jobs still writing files beside the main process (pipeline.core.background);
    the runner waits for them at the end. `report` is what render gives back (out, pages, draft)."""

    config: Any
    processed: Path
    wave: Any = None
    export: Path | None = None
    supplement: Path | None = None
    corrections: Path | None = None
    quotes: Path | None = None
    out: Path | None = None
    templates: Path | None = None
    texts: Path | None = None
    style: Any = None
    guard: dict = field(default_factory=dict)
    defer: Callable[[Callable[[], None]], None] | None = None
    say: Callable[[str], None] = lambda line: None
    frames: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    background: list = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    def tell(self, line: str) -> None:
        """One line of what the run did: shown to the researcher and kept for run.log."""
        self.log.append(line)
        self.say(line)

    def warn(self, warnings: list[str]) -> None:
        for warning in warnings:
            self.tell(f"warning    {warning}")
        self.warnings += warnings

    def wrote(self, paths: list[Path]) -> None:
        self.written += paths

    def frame(self, name: str, read: Callable[[], Any]) -> Any:
        """The frame an earlier stage of this run gave, else `read()` (from the processed folder)."""
        return self.frames[name] if self.frames.get(name) is not None else read()

    def give(self, **frames: Any) -> None:
        self.frames.update(frames)
