"""The commands that make models: ``chordcli train`` and ``chordcli data render``.

Like :mod:`chordcli.cli` (which registers them), they parse their options, call
:mod:`chordcli.api` and report; progress and summaries go to standard error.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from chordcli import console as ui
from chordcli.corpus import build as corpus
from chordcli.helptext import COMMANDS
from models.dataset import DEFAULT_CACHE_DIR

if TYPE_CHECKING:
    from chordcli.api import RenderTally
    from chordcli.corpus.build import Balance, RenderJob
    from models.train import TrainEvent

__all__ = ["data_app", "data_render", "train"]

_N = functools.partial(ui.param, "train")
_D = functools.partial(ui.param, "render")


# --- train ---


@ui.handles_errors
def train(
    data_dir: Annotated[Path, _N("data_dir")],
    out: Annotated[Path | None, _N("out")] = None,
    epochs: Annotated[int | None, _N("epochs")] = None,
    config: Annotated[Path | None, _N("config")] = None,
    resume: Annotated[bool, _N("resume")] = False,
    init: Annotated[str | None, _N("init")] = None,
    seed: Annotated[int | None, _N("seed")] = None,
    cache: Annotated[Path, _N("cache")] = DEFAULT_CACHE_DIR,
    jobs: Annotated[int, _N("jobs")] = 1,
) -> None:
    """Parse the options, train with :func:`chordcli.api.train`, show its progress."""
    from chordcli import api
    from models.train import default_run_dir

    api.check_train_paths(data_dir, out, resume=resume)
    run_dir = out if out is not None else default_run_dir()
    if resume and (config is not None or seed is not None or init is not None):
        ui.report(
            "--config, --seed and --init are ignored with --resume: the run keeps its settings"
        )
    settings = api.train_config(config=config, epochs=epochs, seed=seed, init=init, resume=resume)
    try:
        with _TrainDisplay() as display:
            result = api.train(
                data_dir,
                run_dir,
                config=settings,
                resume=resume,
                cache_dir=cache,
                jobs=jobs,
                on_event=display.handle,
            )
    except KeyboardInterrupt:
        ui.report(
            f"interrupted; continue with: chordcli train {data_dir} --out {run_dir} --resume",
            error=True,
        )
        raise typer.Exit(130) from None
    ui.report(result.summary())
    if result.problems:
        raise typer.Exit(1)


class _TrainDisplay:
    """Renders :class:`models.train.TrainEvent` values with rich on standard error."""

    def __enter__(self) -> _TrainDisplay:
        self.progress = ui.progress_bar(timed=True, metrics=True)
        self.progress.__enter__()
        self.task: Any = None
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def handle(self, event: TrainEvent) -> None:
        """Show one training event: a bar for loading and steps, a line for the others."""
        console = self.progress.console
        if event.kind == "problem":
            console.print(Text.assemble(("skipped:", "bold yellow"), " ", event.message))
        elif event.kind in ("load", "step"):
            if event.step == 1 or self.task is None:
                if self.task is not None:
                    self.progress.remove_task(self.task)
                name = "features" if event.kind == "load" else f"epoch {event.epoch}"
                self.task = self.progress.add_task(name, total=event.steps, metrics="")
            text = event.describe() if event.kind == "step" else ""
            self.progress.update(self.task, completed=event.step, metrics=text)
            if text and not console.is_terminal and event.step % max(1, event.steps // 10) == 0:
                # a log file gets a line every tenth of an epoch instead of a live bar
                console.print(f"epoch {event.epoch} step {event.step}/{event.steps}: {text}")
        elif event.kind != "done":
            console.print(event.describe())


# --- data render ---

data_app = typer.Typer(
    help="Build the synthetic training corpus.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@data_app.command("render", help=COMMANDS["render"])
@ui.handles_errors
def data_render(
    out: Annotated[Path, _D("out")] = corpus.DEFAULT_OUT,
    sources: Annotated[str | None, _D("sources")] = None,
    split: Annotated[str, _D("split")] = "train",
    jobs: Annotated[int, _D("jobs")] = 1,
    limit: Annotated[int | None, _D("limit")] = None,
    ids: Annotated[Path | None, _D("ids")] = None,
    seed: Annotated[int, _D("seed")] = corpus.DEFAULT_SEED,
    soundfonts: Annotated[str | None, _D("soundfonts")] = None,
    pop909: Annotated[Path, _D("pop909")] = corpus.DEFAULT_POP909_DIR,
    billboard: Annotated[Path, _D("billboard")] = corpus.DEFAULT_BILLBOARD_DIR,
    billboard_songs: Annotated[int, _D("billboard_songs")] = corpus.DEFAULT_BILLBOARD_SONGS,
    lead_db: Annotated[str | None, _D("lead_db")] = None,
    variant: Annotated[str, _D("variant")] = "same",
    every: Annotated[int, _D("every")] = 1,
    overwrite: Annotated[bool, _D("overwrite")] = False,
    dry_run: Annotated[bool, _D("dry_run")] = False,
) -> None:
    """Parse the options, plan with :func:`chordcli.api.corpus_plan`, render, report."""
    from chordcli import api

    plan = api.corpus_plan(
        sources=sources,
        split=split,
        ids=ids,
        soundfonts=soundfonts,
        lead_db=lead_db,
        seed=seed,
        limit=limit,
        pop909_dir=pop909,
        billboard_dir=billboard,
        billboard_songs=billboard_songs,
        variant=variant,
        every=every,
    )
    if dry_run:
        planned = corpus.planned_balance(plan, workers=jobs)
        _print_balance(planned)
        minutes = planned.total_minutes[2]
        ui.report(f"{len(plan)} files planned, {minutes:.1f} min of audio (nothing rendered)")
        return
    out.mkdir(parents=True, exist_ok=True)
    tally = _render_with_progress(plan, out, jobs=jobs, overwrite=overwrite)
    balance, md_path, csv_path = api.finish_corpus(plan, out)
    _print_balance(balance)
    files = f"{md_path.parent} ({md_path.name}, {csv_path.name})"
    ui.report(f"{tally.summary()}; manifest and balance in {files}")
    if tally.failed:
        raise typer.Exit(1)


def _render_with_progress(
    plan: list[RenderJob], out: Path, *, jobs: int, overwrite: bool
) -> RenderTally:
    """Render the planned files with a progress bar; return the tally."""
    from chordcli.api import RenderTally
    from chordcli.corpus.build import render_corpus

    tally = RenderTally()
    try:
        with ui.progress_bar(timed=True) as progress:
            task = progress.add_task("rendering", total=len(plan))
            for result in render_corpus(plan, out, workers=jobs, overwrite=overwrite):
                tally.add(result)
                if result.status == "failed":
                    progress.console.print(ui.error_text(result.error or ""))
                progress.update(task, description=f"rendering {result.job.stem}")
                progress.advance(task)
    except KeyboardInterrupt:
        ui.report(tally.interrupted(), error=True)
        raise typer.Exit(130) from None
    return tally


def _print_balance(balance: Balance) -> None:
    """Print a corpus class balance (minutes per quality and per root) on standard error."""
    from chordcli.tables import balance_tables

    ui.print_tables(balance_tables(balance), ui.stderr(), title_justify="left")
