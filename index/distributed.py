"""The build's model work on a Ray cluster: Ray Data ``map_batches`` over actors.

``qa index build --ray`` swaps the local embedder for ``RayEmbedder``: the texts of a
build (chunks, and sentences when they are not pooled) go out as a Ray dataset, each
actor loads the model once from the same ``EmbedderSpec`` the local build would load,
and the vectors come back to the driver, which writes, seals and publishes the build
exactly as a local build does (same manifest, same offsets, same atomic publish). Files
are read and cleaned on the cluster too, one task per file.

Every node must see the source files and the model cache at the same paths (a shared
mount), as it sees the same installed package. Ray is an optional extra: importing
this module without it raises ``RayMissing`` with the line to install it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.embedder import POOLING_BACKENDS, Embedder, EmbedderSpec, ProgressFn
from index.readers import MAX_ARTICLE_CHARS, FileRead, SourceFile, UnreadableFile, read_source

INSTALL_HINT = "pip install '.[ray]'"
# Texts per Ray Data batch: large enough that a batch's transfer is small beside its
# model time, small enough that the driver's progress bar moves and the work spreads.
RAY_BATCH = 256


class RayMissing(RuntimeError):
    """Ray is not installed."""


def _ray():  # the ray module, imported on use
    try:
        import ray
        import ray.data  # the Data library is part of the extra
    except ImportError as exc:
        raise RayMissing(f"the Ray build needs Ray, an optional extra: {INSTALL_HINT}"
                         ) from exc
    return ray


def connect(address: str | None, worker_logs: bool = False) -> str:
    """Join the Ray cluster at ``address`` (``auto``: the one started on this machine),
    or start a local one when None; returns a line naming the cluster's nodes and CPUs.
    ``worker_logs``: the workers' log lines are printed here too (serving)."""
    ray = _ray()
    if address and address != "auto" and not address.startswith("ray://"):
        _reachable(address)  # else ray.init retries for minutes before it gives up
    if not ray.is_initialized():
        # Workers import this package as installed; the driver's environment (PYTHONPATH,
        # offline model flags) goes with the job so a checkout works the same way.
        keep = {k: v for k, v in os.environ.items()
                if k in ("PYTHONPATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
        ray.init(address=address, include_dashboard=False, log_to_driver=worker_logs,
                 configure_logging=False, runtime_env={"env_vars": keep} if keep else None)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the driver draws its own
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no line per dataset
        # ... nor the one saying its progress bars are off (we turned them off).
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    cpus = int(ray.cluster_resources().get("CPU", 0))
    return f"ray cluster: {len(nodes)} nodes, {cpus} CPUs"


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Raise ConnectionError unless something listens at HOST:PORT."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        raise ConnectionError(f"nothing answers at {address} ({exc})") from exc


def read_on_cluster(sources: Sequence[SourceFile],
                    max_article_chars: int | None = MAX_ARTICLE_CHARS,
                    ) -> Iterator[FileRead | UnreadableFile]:
    """Read and clean each file in a task of its own; results in the sources' order."""
    ray = _ray()
    task = ray.remote(num_cpus=1)(_read_one)
    pending = [task.remote(source, max_article_chars) for source in sources]
    # Results are taken in order, so the build sees the files as a local read would.
    for ref in pending:
        yield ray.get(ref)


def _read_one(source: SourceFile, max_article_chars: int | None) -> FileRead | UnreadableFile:
    try:
        return read_source(source, max_article_chars)
    except UnreadableFile as exc:  # returned, so the driver reports it like a local read
        return exc


class _Worker:
    """A Ray Data actor: loads the model once, then embeds (or pools) each batch."""

    def __init__(self, spec: EmbedderSpec) -> None:
        import ray

        self.embedder = spec.load()
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        began = time.perf_counter()
        out = self._embed(batch)
        # Who did the work and how long it took, per row: the driver sums them per node.
        rows = len(batch["row"])
        out["node"] = np.array([self.node] * rows, dtype=object)
        out["seconds"] = np.full(rows, (time.perf_counter() - began) / max(rows, 1))
        return out

    def _embed(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        if "spans" not in batch:
            vectors = self.embedder.embed(texts)
            return {"row": batch["row"], "vector": vectors}
        spans = [np.frombuffer(s, dtype=np.int64).reshape(-1, 2).tolist()
                 for s in batch["spans"]]
        vectors, pooled = self.embedder.pooled_pass(texts, spans)
        dim = vectors.shape[1]
        # Pooled vectors travel as bytes, one (spans, dimension) block per text, NaN for
        # a span without tokens (the driver turns those back into None).
        blocks = []
        for found in pooled:
            block = np.full((len(found), dim), np.nan, dtype=np.float32)
            for n, v in enumerate(found):
                if v is not None:
                    block[n] = v
            blocks.append(block.tobytes())
        return {"row": batch["row"], "vector": vectors,
                "pooled": np.array(blocks, dtype=object)}


@dataclass
class NodeWork:
    """What one node's actors did in a build: texts embedded and model seconds."""

    texts: int = 0
    seconds: float = 0.0

    @property
    def texts_per_second(self) -> float:
        """Texts per second of this node's model time."""
        return self.texts / self.seconds if self.seconds else 0.0


class RayEmbedder(Embedder):
    """An embedder whose bulk passes run on the Ray cluster joined by ``connect``.

    It records the same model name and backend as the local embedder of ``spec``, so
    its builds and local builds extend and refuse each other exactly as two local ones.
    """

    def __init__(self, spec: EmbedderSpec, workers: int | None = None,
                 cpus_per_worker: float = 1.0) -> None:
        """``workers``: model actors (default: the cluster's CPUs / ``cpus_per_worker``);
        each actor's ONNX Runtime uses its own CPUs' worth of threads."""
        ray = _ray()
        self.name, self.backend = spec.name, spec.backend_name
        self.pools_tokens = self.backend in POOLING_BACKENDS
        threads = max(1, int(cpus_per_worker))
        self.spec = replace(spec, threads=threads)
        cpus = ray.cluster_resources().get("CPU", 1.0)
        self.workers = workers or max(1, int(cpus // cpus_per_worker))
        self.cpus_per_worker = cpus_per_worker
        self._dimension: int | None = None
        self.nodes: dict[str, NodeWork] = {}  # node id -> its work so far

    @property
    def dimension(self) -> int:  # type: ignore[override]
        """The vectors' width, asked of the cluster once (a tiny pass)."""
        if self._dimension is None:
            self._dimension = int(self.embed(["dimension"]).shape[1])
        return self._dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """One small batch, on the cluster."""
        return self.embed(texts)

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed texts on the cluster's actors; rows in the order given."""
        rows = [{"row": i, "text": t} for i, t in enumerate(texts)]
        return self._collect(rows, progress)

    def pooled_pass(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                    progress: ProgressFn | None = None,
                    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """The one-pass embedding (``Embedder.pooled_pass``) on the cluster's actors."""
        rows = [{"row": i, "text": t,
                 "spans": np.asarray(s, dtype=np.int64).reshape(-1, 2).tobytes()}
                for i, (t, s) in enumerate(zip(texts, spans, strict=True))]
        pooled: list[list[np.ndarray | None]] = [[] for _ in texts]

        def unpack(batch: dict[str, np.ndarray], dim: int) -> None:
            for row, block in zip(batch["row"], batch["pooled"], strict=True):
                found = np.frombuffer(block, dtype=np.float32).reshape(-1, dim)
                pooled[row] = [None if np.isnan(v[0]) else v.copy() for v in found]

        return self._collect(rows, progress, unpack), pooled

    def _collect(self, rows: list[dict], progress: ProgressFn | None,
                 each: Callable[[dict[str, np.ndarray], int], None] | None = None,
                 ) -> np.ndarray:
        """Run rows through the actors: their vectors in row order; ``each`` also sees
        every finished batch (with the vectors' width)."""
        out: np.ndarray | None = None
        for batch in self._run(rows):
            vectors = np.asarray(np.stack(list(batch["vector"])), dtype=np.float32)
            if out is None:
                out = np.zeros((len(rows), vectors.shape[1]), dtype=np.float32)
            out[batch["row"]] = vectors
            if each:
                each(batch, vectors.shape[1])
            if progress:
                progress(len(batch["row"]))
        if out is None:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        self._dimension = out.shape[1]
        return out

    def _run(self, rows: list[dict]) -> Iterator[dict[str, np.ndarray]]:
        """Send rows through the actors; finished batches as they arrive."""
        if not rows:
            return
        ray = _ray()
        # In order of length, as a local pass batches: padding is then small everywhere.
        rows = sorted(rows, key=lambda r: len(r["text"]))
        blocks = -(-len(rows) // RAY_BATCH)
        dataset = ray.data.from_items(rows, override_num_blocks=blocks)
        mapped = dataset.map_batches(
            _Worker, fn_constructor_kwargs={"spec": self.spec}, batch_size=RAY_BATCH,
            batch_format="numpy", num_cpus=self.cpus_per_worker,
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, blocks)),
            udf_modifying_row_count=False)
        for batch in mapped.iter_batches(batch_size=None, batch_format="numpy"):
            for node, seconds in zip(batch["node"], batch["seconds"], strict=True):
                work = self.nodes.setdefault(str(node), NodeWork())
                work.texts += 1
                work.seconds += float(seconds)
            yield batch

    def work_lines(self) -> list[str]:
        """One line per node: its texts and texts per second of model time."""
        return [f"ray node {node[:12]}: {w.texts} texts, {w.texts_per_second:.1f} texts/s"
                for node, w in sorted(self.nodes.items())]
