"""The ``qa`` command: build and inspect the index, ask questions, serve HTTP.

Exit codes: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from index.builder import Builder, BuildFailed, BuildReport
from index.distributed import RayEmbedder, RayMissing, connect, read_on_cluster
from index.embedder import Embedder, EmbedderSpec
from index.layout import BuildLocked, IndexDir
from index.manifest import IndexError_
from index.reader import Expectation, IndexReader
from index.readers import FileReader
from index.sources import Gathered, gather
from index.space import DiskFull
from index.verification import verify_build
from index.web import FetchCache, Fetcher
from qa.conversation import ConversationError, check_conversation
from qa.engine import Engine
from qa.scope import ScopeError, parse_scope
from qa.types import Answer, Message
from service.durations import span_seconds
from service.logs import configure_logging, get_logger
from service.schemas import ChatResponse
from service.server import configure_process, uvicorn_config
from service.settings import TOP_K, Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Grounded question answering over articles.")
index_app = typer.Typer(no_args_is_help=True, help="Build and inspect the index.")
app.add_typer(index_app, name="index")
eval_app = typer.Typer(no_args_is_help=True, help="Measure answer quality.")
app.add_typer(eval_app, name="eval")

IndexDirOpt = Annotated[Path | None, typer.Option("--index-dir", help="Index directory "
                        "(default: QA_INDEX_DIR).", show_default=False)]


class Failure(Exception):
    """A failure to report in one line and exit 1."""


def _settings(index_dir: Path | None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Failure(f"invalid configuration: QA_{str(first['loc'][0]).upper()}: "
                      f"{first['msg']}") from exc
    if index_dir is not None:
        settings.index_dir = index_dir
    return settings


def _embedder(settings: Settings) -> Embedder:
    try:
        return settings.embedder_spec().load()
    except (OSError, ValueError, RuntimeError) as exc:
        raise Failure(f"cannot load the model {settings.model!r}: {exc}") from exc


class _TqdmProgress:
    """A progress bar on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.bar = None

    def locked(self) -> None:
        pass

    def start(self, total: int) -> None:
        if total and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="text", desc="embedding", file=sys.stderr)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if self.bar.n >= self.bar.total:
                self.bar.close()


SourcesArg = Annotated[list[str] | None, typer.Argument(
    help="Files, folders, feed/sitemap/page URLs, URL-list files (default: QA_SOURCES, "
    "else seeds/).", show_default=False)]


def _build_once(settings: Settings, sources: list[str], full: bool,
                progress: _TqdmProgress | None = None,
                publish_every: int | None = None,
                ray: str | None = None) -> tuple[BuildReport, Gathered]:
    """Gather the sources (files read, web pages fetched) and build; with ``ray`` (an
    address, or "" for QA_RAY_ADDRESS or a local instance) files are read and texts
    embedded on a Ray cluster. Raises Failure."""
    spec = settings.embedder_spec()
    embedder = lambda: _embedder(settings)  # noqa: E731 - loaded only when needed
    reader = None
    on_ray: list[RayEmbedder] = []  # the cluster embedder, once the build loads it
    if ray is not None:
        embedder, reader = _on_ray(spec, ray or settings.ray_address, on_ray)
    builder = Builder(settings.index_dir, embedder, spec.name,
                      spec.backend_name, settings.chunker(), settings.keep_builds,
                      settings.vector_index, settings.wire_threshold,
                      settings.sentence_vectors)

    def fetcher() -> Fetcher:
        cache = FetchCache(settings.data_dir / "fetch.sqlite")
        return Fetcher(settings.fetch_settings(), cache)

    began = time.perf_counter()
    try:
        found = gather(sources, fetcher, settings.max_article_chars, reader)
        report = builder.build_articles(found.articles, found.skipped, full, progress, began,
                                        publish_every)
    except FileNotFoundError as exc:
        raise Failure(f"build failed: {exc}; the published index is unchanged") from exc
    except DiskFull as exc:  # the line says what was written and the space it needs
        raise Failure(str(exc)) from exc
    except (BuildFailed, BuildLocked) as exc:
        raise Failure(f"build failed: {exc}; the published index is unchanged") from exc
    except Exception as exc:
        if ray is None:
            raise
        # A node or actor lost mid-build: Ray's error is many lines; the build's
        # temporary directory is already gone.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Failure(f"build failed on the Ray cluster: {first}; the published index is "
                      "unchanged") from exc
    for line in (line for e in on_ray for line in e.work_lines()):
        typer.echo(line, err=True)
    return report, found


def _on_ray(spec: EmbedderSpec, address: str | None, made: list[RayEmbedder]
            ) -> tuple[Callable[[], Embedder], FileReader]:
    """Join the Ray cluster (or start a local one): the embedder factory (which puts
    what it makes in ``made``) and file reader of a distributed build. Raises Failure
    when Ray is missing or unreachable."""
    try:
        typer.echo(connect(address), err=True)
    except RayMissing as exc:
        raise Failure(f"qa index build --ray: {exc}") from exc
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise Failure(f"cannot join the Ray cluster {address or '(local)'}: "
                      f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                      ) from exc

    def factory() -> Embedder:
        made.append(RayEmbedder(spec))
        return made[-1]

    return factory, read_on_cluster


def _ray_choice(ray: bool, address: str | None) -> str | None:
    """None: a local build; else the cluster address ("" for QA_RAY_ADDRESS or local)."""
    if address is not None and not (address == "auto" or address.startswith("ray://")
                                    or re.fullmatch(r"[\w.\-\[\]:]+:\d+", address)):
        raise typer.BadParameter(
            f"expected HOST:PORT, auto or ray://..., got {address!r}",
            param_hint="--ray-address")
    return address if address is not None else ("" if ray else None)


def _summary(report: BuildReport, found: Gathered) -> str:
    line = report.summary()
    if found.web is not None:
        web = found.web
        line += (f"; web: {len(web.articles)} pages, {web.requests} requests, "
                 f"{web.not_modified} not modified, {web.skipped_by_lastmod} skipped by "
                 f"lastmod, {len(web.gone)} gone, {len(web.failed)} failed")
    return line


PublishEveryOpt = Annotated[int | None, typer.Option(
    min=1, help="Add new articles this many at a time, publishing after each step: a "
    "large archive is searchable as it grows, and a stopped build keeps its finished "
    "steps.")]


RayOpt = Annotated[bool, typer.Option(
    "--ray", help="Read and embed on a Ray cluster (QA_RAY_ADDRESS, else a local Ray "
    "instance started for the build); needs the ray extra.")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", metavar="ADDRESS", help="The Ray cluster to join (implies --ray): "
    "HOST:PORT, auto (the one started on this machine) or ray://...", show_default=False)]


@index_app.command("build")
def build(
    sources: SourcesArg = None,
    index_dir: IndexDirOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Re-embed everything.")] = False,
    publish_every: PublishEveryOpt = None,
    ray: RayOpt = False,
    ray_address: RayAddressOpt = None,
) -> None:
    """Build the index from articles and publish it atomically (incremental by default)."""
    settings = _settings(index_dir)
    report, found = _build_once(settings, sources or settings.sources, full, _TqdmProgress(),
                                publish_every, _ray_choice(ray, ray_address))
    for where, reason in report.skipped:
        # A file's bad items beyond the first few are counted in one line of their own.
        typer.echo(reason if reason.startswith("... and ") else f"skipped {where}: {reason}",
                   err=True)
    typer.echo(_summary(report, found))


@index_app.command("sync")
def sync(
    sources: SourcesArg = None,
    index_dir: IndexDirOpt = None,
    every: Annotated[str, typer.Option(help="Time between runs: 30s, 15m, 1h.")] = "15m",
    runs: Annotated[int | None, typer.Option(min=1, help="Stop after this many runs "
                    "(default: run until stopped).")] = None,
    publish_every: PublishEveryOpt = None,
) -> None:
    """Keep the index up to date: an incremental build now and then every interval, in
    the foreground, one log line per run. Runs never overlap: each starts after the
    previous ends, and while another process builds in the same index directory a run
    logs that and leaves it to the next one."""
    seconds = _interval(every)
    settings = _settings(index_dir)
    configure_logging(settings.log_json)
    log = get_logger("qa.sync")
    chosen = sources or settings.sources
    done = 0
    while True:
        began = time.monotonic()
        try:
            report, found = _build_once(settings, chosen, False, publish_every=publish_every)
            log.info("sync", summary=_summary(report, found), published=report.build_id,
                     failed=[url for url, _ in report.skipped][:20],
                     seconds=round(time.monotonic() - began, 1))
        except Failure as exc:  # one bad run (a site down, a lock held) is not the end
            log.error("sync failed", error=str(exc), seconds=round(time.monotonic() - began, 1))
        done += 1
        if runs is not None and done >= runs:
            return
        time.sleep(max(0.0, seconds - (time.monotonic() - began)))


def _interval(value: str) -> float:
    seconds = span_seconds(value)
    if seconds is not None:
        return seconds
    raise typer.BadParameter(f"expected a duration like 30s, 15m, 1h, got {value!r}",
                             param_hint="--every")


def _open(settings: Settings, expect: Expectation | None = None) -> IndexReader:
    try:
        return IndexReader(IndexDir(settings.index_dir).current_path(), expect)
    except IndexError_ as exc:
        raise Failure(f"{exc} (index directory {settings.index_dir})") from exc


@index_app.command("status")
def status(index_dir: IndexDirOpt = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show what the published index holds."""
    settings = _settings(index_dir)
    reader = _open(settings)
    m = reader.manifest
    created = datetime.fromisoformat(m.created_at)
    age = int((datetime.now(UTC) - created).total_seconds())
    builds = sorted(p.name for p in IndexDir(settings.index_dir).builds.iterdir()
                    if not p.name.startswith("."))
    info = {"index_dir": str(settings.index_dir), "build": m.build_id, "model": m.model,
            "dimension": m.dimension, "articles": m.articles, "chunks": m.chunks,
            "sentences": m.sentences, "created_at": m.created_at, "age_seconds": age,
            **asdict(m.recipe), "vector_index": m.vector_index["factory"],
            "nprobe": m.vector_index["nprobe"], "builds": builds}
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        typer.echo(f"{key:>14}: {', '.join(value) if isinstance(value, list) else value}")


@index_app.command("verify")
def verify(index_dir: IndexDirOpt = None) -> None:
    """Check the published build's integrity: its files' sizes and SHA-256, SQLite's
    quick_check, every article text against its hash, counts, offsets. One line per
    problem (on stderr) and exit 1 if there is any."""
    settings = _settings(index_dir)
    try:
        path = IndexDir(settings.index_dir).current_path()
    except IndexError_ as exc:
        raise Failure(f"{exc} (index directory {settings.index_dir})") from exc
    problems = verify_build(path)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        count = len(problems)
        raise Failure(f"build {path.name} has {count} problem{'' if count == 1 else 's'}")
    reader = _open(settings)
    m = reader.manifest
    reader.close()
    unrecorded = "" if m.files else " (built before file hashes were recorded: not checked)"
    typer.echo(f"build {m.build_id} is sound: {m.articles} articles, {m.chunks} chunks, "
               f"{m.sentences} sentences{unrecorded}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index_dir: IndexDirOpt = None,
    top_k: Annotated[int | None, typer.Option(help="Passages to return (default: QA_TOP_K).",
                     show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Answer as of this day, YYYY-MM-DD (default: today, UTC).")] = None,
    published_after: Annotated[str | None, typer.Option(
        help="Only articles published on or after this day.")] = None,
    published_before: Annotated[str | None, typer.Option(
        help="Only articles published on or before this day.")] = None,
    sources: Annotated[list[str] | None, typer.Option(
        "--source", help="Only articles of this source (repeatable).")] = None,
    article_ids: Annotated[list[str] | None, typer.Option(
        "--article-id", help="Only this article (repeatable).")] = None,
) -> None:
    """Answer a question from the published index, with its citations."""
    try:
        scope = parse_scope(as_of, {"published_after": published_after,
                                    "published_before": published_before,
                                    "sources": sources, "article_ids": article_ids})
    except ScopeError as exc:
        option = "--" + exc.param.rsplit(".", 1)[-1].replace("_", "-")
        option = {"--sources": "--source", "--article-ids": "--article-id"}.get(option, option)
        raise typer.BadParameter(exc.message, param_hint=option) from exc
    if top_k is not None:
        try:
            TOP_K.validate_python(top_k)
        except ValidationError as exc:
            raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--top-k") from exc
    settings = _settings(index_dir)
    messages = [Message("user", question)]
    try:  # refuse a bad question before loading the model
        check_conversation(messages, settings.max_question_chars)
    except ConversationError as exc:
        raise typer.BadParameter(exc.message, param_hint="QUESTION") from exc
    embedder = _embedder(settings)
    reader = _open(settings, Expectation.of(embedder))
    answer = Engine(reader, embedder, settings.answer_config()).answer(messages, top_k=top_k,
                                                                        scope=scope)
    # --json prints what POST /api/chat returns for the same question: one schema, made
    # by the same code, so a script can switch between the two without renaming fields.
    typer.echo(ChatResponse.of(answer).model_dump_json(indent=2) if as_json
               else _render(answer))


def _render(answer: Answer) -> str:
    lines = [answer.text, ""]
    if not answer.grounded:
        why = ("no article matches the date and filters" if answer.reason ==
               "no_matching_articles" else f"confidence {answer.confidence:.2f}")
        lines.append(f"(no grounded answer; {why})")
    for c in answer.citations:
        when = f", {c.published}" if c.published else ""
        lines.append(f"[{c.n}] {c.title}{when} ({c.article_id}, characters {c.start}-{c.end})")
        if c.url:
            lines.append(f"    {c.url}")
    lines.append(f"confidence {answer.confidence:.2f} · index {answer.index_version}")
    return "\n".join(lines)


@app.command()
def serve(
    index_dir: IndexDirOpt = None,
    host: Annotated[str | None, typer.Option(help="Address (default: QA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535,
                    help="Port (default: QA_PORT).")] = None,
    ray: Annotated[bool, typer.Option(
        "--ray", help="Run --replicas copies of the app on Ray Serve, behind its proxy on "
        "--host/--port (needs the ray extra).")] = False,
    ray_address: RayAddressOpt = None,
    replicas: Annotated[int, typer.Option(min=1, help="With --ray: copies of the app.")] = 2,
) -> None:
    """Serve the HTTP API and the widget (with --ray: replicated on Ray Serve)."""
    settings = _settings(index_dir)
    settings.host = host or settings.host
    settings.port = port or settings.port
    configure_logging(settings.log_json)
    address = _ray_choice(ray, ray_address)
    if address is not None:
        _serve_on_ray(settings, replicas, address or settings.ray_address)
        return

    import uvicorn

    from api import create_app

    # Our access middleware logs each request once, as a structured line.
    uvicorn.Server(uvicorn_config(create_app(settings), settings, log_config=None,
                                  access_log=False)).run()


def _serve_on_ray(settings: Settings, replicas: int, address: str | None) -> None:
    """Serve replicas of the app on Ray Serve until interrupted. Raises Failure."""
    try:
        from service import ray_serve
    except ModuleNotFoundError as exc:
        if exc.name != "ray" and not (exc.name or "").startswith("ray."):
            raise
        raise Failure("qa serve --ray needs Ray: pip install '.[ray]'") from exc
    get_logger("qa.serve").info("serving on Ray", replicas=replicas,
                                url=f"http://{settings.host}:{settings.port}",
                                cluster=address or "local")
    try:
        ray_serve.run(settings, replicas, address)
    except (ConnectionError, RayMissing) as exc:
        raise Failure(f"cannot join the Ray cluster {address}: {exc}") from exc


@app.command()
def mcp(index_dir: IndexDirOpt = None) -> None:
    """Serve the MCP tools (search_articles, answer, get_article) over stdio, for a local
    assistant that starts this command."""
    from qa.live import LiveEngine, Watcher
    from service.journal import Journal
    from service.mcp_server import build_mcp

    settings = _settings(index_dir)
    configure_logging(True)  # stdout carries the protocol: every log line goes to stderr
    live = LiveEngine(settings.index_dir, lambda: _embedder(settings), settings.answer_config())
    live.warm_up()
    if live.version() is None:  # nothing to serve (an older intact build would do)
        raise Failure(live.problem() or "no index loaded")
    journal = Journal(settings.data_dir, settings.retention_days)
    # A newly published build is picked up as the HTTP server picks it up.
    watcher = Watcher(live, settings.reload_interval) if settings.reload_interval else None
    if watcher:
        watcher.start()
    try:
        build_mcp(live, journal).run("stdio")
    finally:
        if watcher:
            watcher.stop()
        live.close()
        journal.close()


@app.command()
def report(
    since: Annotated[str, typer.Option(help="How far back: 7d, 24h, 30m, 2w or YYYY-MM-DD."
                                       )] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """The gap report: questions readers asked that the archive could not answer well,
    grouped by meaning, and the answers they rated down."""
    from service.journal import Journal
    from service.report import gap_report, render, since_time

    try:
        start = since_time(since)
    except ValueError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--since: "),
                                 param_hint="--since") from exc
    settings = _settings(None)
    journal = Journal(settings.data_dir, settings.retention_days)
    try:
        result = gap_report(journal, _embedder(settings), start,
                            settings.report_low_confidence)
    finally:
        journal.close()
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else render(result))


@eval_app.command("squad")
def eval_squad(
    path: Annotated[Path, typer.Argument(help="A SQuAD v1.1-format JSON file.", exists=True,
                                         dir_okay=False, readable=True)],
    sample_size: Annotated[int | None, typer.Option("--sample", min=1,
                           help="Questions to sample (default: all).")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 13,
    negatives: Annotated[list[Path] | None, typer.Option(
        "--negatives", help="Articles without the answers (default: QA_SOURCES); the same "
        "questions asked there measure false answers.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                      help="Write the JSON results here.")] = None,
) -> None:
    """Evaluate on SQuAD-format data in a temporary index: hit@k, MRR, answer accuracy,
    abstention, latency, build time, and false answers against the wrong corpus."""
    from bench.evaluation import evaluate_squad

    settings = _settings(None)
    embedder = _embedder(settings)
    try:
        results = evaluate_squad(path, embedder, settings.answer_config(),
                                 negatives=negatives or [Path(p) for p in settings.sources],
                                 n=sample_size,
                                 seed=seed, chunker=settings.chunker())
    except (KeyError, ValueError) as exc:
        raise Failure(f"{path} is not a SQuAD-format file: {exc}") from exc
    except BuildFailed as exc:
        raise Failure(str(exc)) from exc
    text = json.dumps(results, indent=2)
    if output:
        output.write_text(text + "\n")
    typer.echo(text)


@eval_app.command("news")
def eval_news(
    folder: Annotated[Path, typer.Argument(help="The news-rtqa folder (questions.jsonl and "
                                           "the archives).", exists=True, file_okay=False)],
    quick: Annotated[bool, typer.Option("--quick", help="The quick loop: the 2025 questions "
                                        "over quick-articles.jsonl.gz.")] = False,
    sample_size: Annotated[int | None, typer.Option("--sample", min=1,
                           help="Questions to sample (default: all).")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 13,
    index_dir: IndexDirOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                      help="Write the JSON results here.")] = None,
) -> None:
    """Evaluate on the news set by its protocol (as of the day after each quiz): hit@1,
    hit@5, MRR@10, article hit@5, answer accuracy, abstention, latency. The index is built
    once under QA_DATA_DIR (or --index-dir) and reused: a second run embeds nothing."""
    from bench.news import evaluate_news

    settings = _settings(None)
    where = index_dir or settings.data_dir / "eval" / ("news-quick" if quick else "news")
    embedder = _embedder(settings)
    try:
        results = evaluate_news(folder, embedder, settings.answer_config(), where, quick=quick,
                                n=sample_size, seed=seed, chunker=settings.chunker())
    except (OSError, KeyError, ValueError) as exc:
        raise Failure(f"{folder} is not a news-rtqa folder: {exc}") from exc
    except DiskFull as exc:  # the line says what was written and the space it needs
        raise Failure(str(exc)) from exc
    except (BuildFailed, BuildLocked) as exc:
        raise Failure(str(exc)) from exc
    text = json.dumps(results, indent=2)
    if output:
        output.write_text(text + "\n")
    typer.echo(text)


# Click's error classes, found from the one typer exports: typer raises them from click or,
# since 0.2x, from its own copy of click.
_USAGE_ERROR, _CLICK_ERROR = (next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)
                              for name in ("UsageError", "ClickException"))


def main() -> None:
    """Entry point: run the CLI. A failure is one line and exit 1, a usage error one line
    (with where to find help) and exit 2; no arguments at all show the help."""
    configure_process()
    try:
        code = app(standalone_mode=False)
    except _USAGE_ERROR as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            # Its message is the help, unless typer has already printed it (rich does).
            if exc.format_message().strip():
                typer.echo(exc.format_message(), err=True)
        else:  # typer would draw a box of several lines around the message
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            typer.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except _CLICK_ERROR as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    except Failure as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    # Outside standalone mode click returns the code of an early exit (--help: 0).
    sys.exit(code if isinstance(code, int) else 0)
