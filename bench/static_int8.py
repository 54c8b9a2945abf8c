"""Benchmark: static int8 all-MiniLM-L6-v2 against fp32 and dynamic int8, on this CPU.

Is static int8 (activations quantised with scales calibrated once, offline) faster than
the project's fp32 ONNX Runtime embedder here, and how faithful are its vectors? One run,
the same news texts for every embedder:

* ``onnx-fp32``: the project's default embedder (the reference for every ratio);
* ``onnx-int8``: the project's dynamic int8 embedder (weights int8, activations scaled
  per batch at run time);
* ``ort-static-…``: ONNX Runtime ``quantize_static`` of the project's own fp32 export:
  QDQ format, per-channel int8 weights, int8 activations on the matrix products,
  MinMax ranges calibrated on ``--calibration`` news texts (see ``--ort-variants``);
* ``openvino-fp32`` and ``openvino-int8``: OpenVINO running the same ONNX file, and
  NNCF's post-training static quantisation of it (``model_type=TRANSFORMER``, mixed
  preset), compiled with an explicit f32 inference precision (never bf16).

Every embedder tokenises and pools with the project's ``OnnxEmbedder`` code (the others
subclass it and replace only the model session). Texts are chunks (``Chunker`` and
``CHUNK_TEMPLATE``, as the index build embeds them) and sentences (``split_sentences``)
of the first pages of a news archive; calibration texts come from the pages after them.

Measured per embedder at each ``--threads`` count: chunks/s and sentences/s (batches of
64, sorted by length as ``Embedder.embed``; the median of ``--repeat`` passes), query
latency p50 (one short question, 50 calls after warm-up), fidelity to ``onnx-fp32`` at
the same thread count (mean and min cosine, chunks and sentences apart), batch
independence (min cosine of 32 texts embedded alone vs together in one batch), model
file size and one-off quantisation seconds.

OpenVINO and NNCF are not project dependencies; install them into the environment for
this benchmark only (without them the OpenVINO rows are skipped)::

    pip install "openvino==2026.4.*" "nncf==3.4.*"

Usage (from the repository root)::

    python -m bench.static_int8 [--archive ../shared/eval/news-rtqa/quick-articles.jsonl.gz]
        [--chunks 512] [--sentences 1024] [--calibration 300] [--threads 1,2]
        [--repeat 3] [--ort-variants u8s8-rr] [--out bench/out/static_int8]
        [--results bench/results/static_int8]

Prints a table and writes ``RESULTS.md`` and ``RESULTS.json``; quantised models go to
``--out`` (a scratch directory).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.chunking import CHUNK_TEMPLATE, Chunker, split_sentences
from index.embedder import Embedder, EmbedderSpec, default_cache_dir, resolve_model
from index.onnx_embedder import OnnxEmbedder, exported_model
from index.records import Article

HERE = Path(__file__).parent
ARCHIVE = Path("../shared/eval/news-rtqa/quick-articles.jsonl.gz")
OUT = HERE / "out" / "static_int8"
RESULTS = HERE / "results" / "static_int8"
QUERY = "Which agency banned the food dye Red No. 3 this week?"
BATCH = 64
QUERY_CALLS = 50
ALONE_TEXTS = 32
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
             "amx_tile", "amx_int8", "amx_bf16")
# ORT activation/weight types by variant name; a "-rr" suffix adds reduce_range (7-bit
# weights), ORT's advice against the U8S8 saturation of AVX2/AVX-512 without VNNI.
ORT_TYPES = {"u8s8": ("QUInt8", "QInt8"), "s8s8": ("QInt8", "QInt8"),
             "u8u8": ("QUInt8", "QUInt8")}
# A "-constb" suffix quantises only the MatMuls with a constant weight, not the
# attention's activation-by-activation ones. Calibration is MinMax: ORT's histogram
# methods (percentile, entropy) need every calibration feed the same shape, so padding.
VARIANT_FLAGS = {"rr", "constb"}


# ---------------------------------------------------------------------------- texts


@dataclass
class Texts:
    """The measured chunks and sentences, and the calibration texts from later pages."""

    chunks: list[str]
    sentences: list[str]
    calibration: list[str]
    measured_pages: int
    calibration_pages: int


def read_articles(archive: Path) -> Iterator[Article]:
    """The archive's pages, in order, as articles."""
    with gzip.open(archive, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("text"):
                yield Article(str(row["id"]), row.get("title") or "", row["text"])


def page_texts(chunker: Chunker, article: Article) -> tuple[list[str], list[str]]:
    """A page's chunk texts (as the index build embeds them) and its sentences."""
    chunks = [CHUNK_TEMPLATE.format(title=article.title, text=c.text)
              for c in chunker.chunk(article)]
    sentences = [article.text[s.start : s.end] for s in split_sentences(article.text)]
    return chunks, [s for s in sentences if len(s) >= 20]


def load_texts(archive: Path, n_chunks: int, n_sentences: int, n_calibration: int) -> Texts:
    """Chunks and sentences of the first pages, until both counts are met; then
    calibration texts, chunks and sentences alternately, from the pages after those."""
    chunker = Chunker()
    chunks: list[str] = []
    sentences: list[str] = []
    calibration: list[str] = []
    measured = calibrating = 0
    for article in read_articles(archive):
        page_chunks, page_sentences = page_texts(chunker, article)
        if len(chunks) < n_chunks or len(sentences) < n_sentences:
            chunks += page_chunks[: n_chunks - len(chunks)]
            sentences += page_sentences[: n_sentences - len(sentences)]
            measured += 1
            continue
        if len(calibration) >= n_calibration:
            break
        calibrating += 1
        for i in range(max(len(page_chunks), len(page_sentences))):
            calibration += [t[i] for t in (page_chunks, page_sentences) if i < len(t)]
        calibration = calibration[:n_calibration]
    if len(chunks) < n_chunks or len(sentences) < n_sentences \
            or len(calibration) < n_calibration:
        sys.exit(f"{archive} has too few pages for {n_chunks} chunks, {n_sentences} "
                 f"sentences and {n_calibration} calibration texts")
    return Texts(chunks, sentences, calibration, measured, calibrating)


# ------------------------------------------------------------------------ embedders


def model_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 weights."""
    return Path(resolve_model("all-MiniLM-L6-v2")[0])


def fp32_file() -> Path:
    """The project's cached fp32 ONNX export (made now if the cache has none)."""
    return exported_model(model_dir(), "fp32", default_cache_dir())


class _FeedRecorder:
    """Stands in for an ONNX Runtime session: keeps each feed, returns zero states."""

    def __init__(self, inputs: Sequence[str], dimension: int) -> None:
        self.inputs = list(inputs)
        self.dimension = dimension
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, _outputs: None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.feeds.append(feed)
        ids = feed["input_ids"]
        return [np.zeros((*ids.shape, self.dimension), dtype=np.float32)]


def calibration_feeds(texts: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """One model feed per text, made by ``OnnxEmbedder``'s own tokenising (same input
    names, dtypes, truncation), each text alone: padding never enters the ranges."""
    embedder = OnnxEmbedder(model_dir(), "all-MiniLM-L6-v2", "onnx-fp32", threads=1)
    recorder = _FeedRecorder(sorted(embedder._inputs), embedder.dimension)
    embedder._session = recorder
    for text in texts:
        embedder.embed_batch([text])
    return recorder.feeds


class FileOnnxEmbedder(OnnxEmbedder):
    """The project's ONNX embedder running another model file (same tokens, pooling and
    session options)."""

    def __init__(self, model_file: Path, backend: str, threads: int) -> None:
        import onnxruntime as ort

        super().__init__(model_dir(), "all-MiniLM-L6-v2", "onnx-fp32", threads=threads)
        options = self._session.get_session_options()
        self._session = ort.InferenceSession(str(model_file), options,
                                             providers=["CPUExecutionProvider"])
        self.backend = backend


class _OpenVinoSession:
    """A compiled OpenVINO model behind the ``run`` call ``OnnxEmbedder`` makes."""

    def __init__(self, compiled) -> None:
        self._compiled = compiled
        self._request = compiled.create_infer_request()

    def run(self, _outputs: None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        result = self._request.infer(feed)
        return [np.array(result[self._compiled.output(0)], copy=True)]


def openvino_config(threads: int) -> dict:
    """The CPU compile properties: f32 precision (never a bf16 default), T threads,
    one stream (latency mode), keyed by the installed version's property names."""
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    return {hints.inference_precision: ov.Type.f32,
            props.inference_num_threads: threads,
            hints.performance_mode: hints.PerformanceMode.LATENCY,
            props.num_streams: 1}


class OpenVinoEmbedder(OnnxEmbedder):
    """The project's ONNX embedder with OpenVINO computing the hidden states."""

    def __init__(self, model, backend: str, threads: int) -> None:
        import openvino as ov

        super().__init__(model_dir(), "all-MiniLM-L6-v2", "onnx-fp32", threads=threads)
        compiled = ov.Core().compile_model(model, "CPU", openvino_config(threads))
        self._session = _OpenVinoSession(compiled)
        self.backend = backend


# --------------------------------------------------------------------- quantisation


@dataclass
class Variant:
    """One embedder under test: how to load it at T threads, its file and its making."""

    name: str
    load: Callable[[int], Embedder]
    size_bytes: int
    quantise_s: float | None = None
    notes: str = ""


def ort_static(fp32: Path, out: Path, variant: str, feeds: list[dict[str, np.ndarray]],
               ) -> Variant:
    """ONNX Runtime static QDQ quantisation of the fp32 export: per-channel weights,
    MinMax-calibrated per-tensor activations, the MatMul nodes only (as the project's
    dynamic int8; an Add carries the attention mask's lowest-float bias, which no int8
    scale fits). ``variant`` is a key of ``ORT_TYPES`` with ``VARIANT_FLAGS`` suffixes."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        """The calibration feeds, one text each."""

        def __init__(self) -> None:
            self._next = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._next, None)

    kind, *flags = variant.split("-")
    activation, weight = ORT_TYPES[kind]
    reduce_range = "rr" in flags
    const_b = "constb" in flags
    path = out / f"ort-static-{variant}.onnx"
    prepared = out / "ort-prepared.onnx"
    began = time.perf_counter()
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(path), Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["MatMul"], per_channel=True,
                    reduce_range=reduce_range, activation_type=QuantType[activation],
                    weight_type=QuantType[weight], calibrate_method=CalibrationMethod.MinMax,
                    # Ranges merged every 32 texts: exact for MinMax, bounded memory.
                    extra_options={"MatMulConstBOnly": const_b,
                                   "CalibMaxIntermediateOutputs": 32})
    seconds = time.perf_counter() - began
    return Variant(f"ort-static-{variant}",
                   lambda t: FileOnnxEmbedder(path, f"ort-static-{variant}", t),
                   path.stat().st_size, seconds,
                   f"QDQ, activations {activation}, weights {weight} per channel, "
                   f"reduce_range={reduce_range}, MinMax calibration, "
                   + ("MatMul with a weight only" if const_b else "every MatMul"))


def openvino_variants(fp32: Path, out: Path, feeds: list[dict[str, np.ndarray]],
                      ) -> list[Variant]:
    """OpenVINO on the fp32 file, and NNCF's static int8 of it (saved to ``out``)."""
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(fp32))
    names = {name for port in model.inputs for name in port.get_names()}
    dataset = nncf.Dataset([{k: v for k, v in feed.items() if k in names} for feed in feeds])
    began = time.perf_counter()
    quantised = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER,
                              preset=nncf.QuantizationPreset.MIXED, subset_size=len(feeds))
    seconds = time.perf_counter() - began
    xml = out / "openvino-int8.xml"
    ov.save_model(quantised, str(xml), compress_to_fp16=False)
    size = xml.stat().st_size + xml.with_suffix(".bin").stat().st_size
    return [Variant("openvino-fp32", lambda t: OpenVinoEmbedder(str(fp32), "openvino-fp32", t),
                    fp32.stat().st_size, None, "the fp32 ONNX file read by OpenVINO"),
            Variant("openvino-int8", lambda t: OpenVinoEmbedder(str(xml), "openvino-int8", t),
                    size, seconds, "NNCF quantize, TRANSFORMER, preset MIXED, "
                    f"subset_size={len(feeds)}")]


def project_variants(fp32: Path, out: Path) -> list[Variant]:
    """The project's fp32 and dynamic int8 embedders; the dynamic quantisation is timed
    by repeating it into ``out`` (the embedder itself loads the project's cached file)."""
    from index.onnx_embedder import _quantise

    int8 = exported_model(model_dir(), "int8", default_cache_dir())
    # A copy: _quantise writes its prepared model next to its input, here not the cache.
    work = out / "dynamic"
    work.mkdir(exist_ok=True)
    shutil.copyfile(fp32, work / "fp32.onnx")
    began = time.perf_counter()
    _quantise(work / "fp32.onnx", work / "onnx-int8-dynamic.onnx")
    seconds = time.perf_counter() - began
    shutil.rmtree(work)
    return [Variant("onnx-fp32", lambda t: EmbedderSpec(backend="onnx-fp32", threads=t).load(),
                    fp32.stat().st_size, None, "the project's default"),
            Variant("onnx-int8", lambda t: EmbedderSpec(backend="onnx-int8", threads=t).load(),
                    int8.stat().st_size, seconds,
                    "the project's dynamic int8 (QUInt8 weights per channel, MatMul)")]


# ----------------------------------------------------------------------- measuring


@dataclass
class Row:
    """One embedder at one thread count."""

    embedder: str
    threads: int
    chunks_per_s: float
    sentences_per_s: float
    query_ms_p50: float
    chunk_mean_cosine: float
    chunk_min_cosine: float
    sentence_mean_cosine: float
    sentence_min_cosine: float
    alone_vs_batch_min_cosine: float
    size_mb: float
    quantise_s: float | None
    load_s: float
    chunk_rates: list[float] = field(default_factory=list)
    sentence_rates: list[float] = field(default_factory=list)


def throughput(embedder: Embedder, texts: Sequence[str], repeat: int,
               ) -> tuple[list[float], np.ndarray]:
    """Texts per second of each of ``repeat`` passes, and the vectors of the first."""
    rates = []
    vectors = None
    for _ in range(repeat):
        began = time.perf_counter()
        out = embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - began))
        vectors = out if vectors is None else vectors
    return rates, vectors


def query_p50(embedder: Embedder) -> float:
    """The median milliseconds of one short question, after warm-up calls."""
    for _ in range(5):
        embedder.embed_one(QUERY)
    times = []
    for _ in range(QUERY_CALLS):
        began = time.perf_counter()
        embedder.embed_one(QUERY)
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times)


def alone_vs_batch(embedder: Embedder, texts: Sequence[str]) -> float:
    """The min cosine of each text embedded alone against it in one padded batch."""
    together = embedder.embed_batch(list(texts))
    alone = np.vstack([embedder.embed_one(t) for t in texts])
    return float((alone * together).sum(axis=1).min())


def measure(variant: Variant, threads: int, texts: Texts, repeat: int,
            reference: dict[str, np.ndarray] | None) -> tuple[Row, dict[str, np.ndarray]]:
    """Every measure of one embedder at one thread count; its vectors for fidelity."""
    began = time.perf_counter()
    embedder = variant.load(threads)
    embedder.batch_size = BATCH
    load = time.perf_counter() - began
    embedder.embed(texts.sentences[:BATCH])  # warm-up: first-call allocations
    chunk_rates, chunk_vectors = throughput(embedder, texts.chunks, repeat)
    sentence_rates, sentence_vectors = throughput(embedder, texts.sentences, repeat)
    vectors = {"chunks": chunk_vectors, "sentences": sentence_vectors}
    reference = reference or vectors
    cosine = {k: (vectors[k] * reference[k]).sum(axis=1) for k in vectors}
    half = ALONE_TEXTS // 2
    mixed = texts.chunks[:half] + texts.sentences[: ALONE_TEXTS - half]
    row = Row(variant.name, threads, statistics.median(chunk_rates),
              statistics.median(sentence_rates), query_p50(embedder),
              float(cosine["chunks"].mean()), float(cosine["chunks"].min()),
              float(cosine["sentences"].mean()), float(cosine["sentences"].min()),
              alone_vs_batch(embedder, mixed), variant.size_bytes / 1e6, variant.quantise_s,
              load, chunk_rates, sentence_rates)
    return row, vectors


def cpu_description() -> dict:
    """The CPU model and which int8-relevant instruction sets it has."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return {"model": model, "cores": os.cpu_count(),
            "flags": {flag: flag in flags for flag in CPU_FLAGS}}


def versions() -> dict[str, str]:
    """The versions of the runtimes compared."""
    out = {"python": platform.python_version()}
    for module in ("onnxruntime", "onnx", "openvino", "nncf", "numpy"):
        try:
            out[module] = __import__(module).__version__
        except ImportError:
            out[module] = "not installed"
    return out


# ------------------------------------------------------------------------- report


def table(rows: list[Row]) -> list[str]:
    """The markdown table, each rate and latency also as a ratio to onnx-fp32."""
    base = {r.threads: r for r in rows if r.embedder == "onnx-fp32"}
    lines = ["| embedder | threads | chunks/s | vs fp32 | sentences/s | vs fp32 "
             "| query p50 ms | vs fp32 | chunks cos mean / min | sentences cos mean / min "
             "| alone vs batch min cos | size MB | quantise s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = base[r.threads]
        quantise = "" if r.quantise_s is None else f"{r.quantise_s:.1f}"
        lines.append(
            f"| {r.embedder} | {r.threads} | {r.chunks_per_s:.1f} | "
            f"{r.chunks_per_s / b.chunks_per_s:.2f}x | {r.sentences_per_s:.1f} | "
            f"{r.sentences_per_s / b.sentences_per_s:.2f}x | {r.query_ms_p50:.2f} | "
            f"{r.query_ms_p50 / b.query_ms_p50:.2f}x | {r.chunk_mean_cosine:.4f} / "
            f"{r.chunk_min_cosine:.4f} | {r.sentence_mean_cosine:.4f} / "
            f"{r.sentence_min_cosine:.4f} | {r.alone_vs_batch_min_cosine:.5f} | "
            f"{r.size_mb:.1f} | {quantise} |")
    return lines


def report(rows: list[Row], variants: list[Variant], meta: dict) -> str:
    """The whole markdown report."""
    cpu = meta["cpu"]
    flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in cpu["flags"].items())
    lines = ["# Static int8 embedders against fp32 and dynamic int8", "",
             f"`{meta['command']}`", "",
             f"CPU: {cpu['model']}, {cpu['cores']} cores; int8 flags: {flags}.",
             f"Load average at start {meta['load_start']}, at end {meta['load_end']}.",
             f"Texts: {meta['chunks']} chunks and {meta['sentences']} sentences of the first "
             f"{meta['measured_pages']} pages; {meta['calibration']} calibration texts from "
             f"the next {meta['calibration_pages']} pages. Rates are the median of "
             f"{meta['repeat']} passes (batches of {BATCH}, sorted by length); query p50 of "
             f"{QUERY_CALLS} calls; cosines against onnx-fp32 at the same thread count; "
             f"alone vs batch over {ALONE_TEXTS} texts (chunks and sentences in one batch).",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
             "", *table(rows), "", "Embedders:", ""]
    notes = dict.fromkeys(f"- `{v.name}`: {v.notes}" for v in variants)  # once per name
    lines += list(notes)
    lines += [f"- skipped: {s}" for s in meta["skipped"]]
    return "\n".join(lines) + "\n"


def _relative(value: object) -> str:
    """An argument as text; a path inside the project relative to it."""
    if isinstance(value, Path) and value.is_absolute():
        try:
            return str(value.relative_to(HERE.parent))
        except ValueError:
            return str(value)
    return str(value)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    """Quantise, measure every embedder at every thread count, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ARCHIVE,
                        help="gzipped JSONL of news pages ({id, title, text, ...})")
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--sentences", type=int, default=1024)
    parser.add_argument("--calibration", type=int, default=300)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeat", type=int, default=3, help="passes per throughput measure")
    parser.add_argument("--ort-variants", default="u8s8-rr",
                        help="comma-separated ORT static variants: u8s8, s8s8 or u8u8 "
                             "(activations, weights), then flags: -rr (reduce_range), "
                             "-constb (weight MatMuls only)")
    parser.add_argument("--out", type=Path, default=OUT, help="scratch dir for models")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="results path without suffix: writes .md and .json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    thread_counts = [int(t) for t in args.threads.split(",")]
    ort_variants = [v.strip() for v in args.ort_variants.split(",") if v.strip()]
    for v in ort_variants:
        kind, *flags = v.split("-")
        if kind not in ORT_TYPES or not set(flags) <= VARIANT_FLAGS:
            parser.error(f"unknown ORT variant {v!r}")
    given = list(sys.argv[1:] if argv is None else argv)
    meta: dict = {"command": " ".join(["python -m bench.static_int8", *given]),
                  # Paths relative to the project, so no machine's layout is recorded.
                  "arguments": {k: _relative(v) for k, v in vars(args).items()},
                  "load_start": load_average(), "cpu": cpu_description(),
                  "versions": versions(), "repeat": args.repeat, "skipped": []}
    print(f"load average {meta['load_start']}; CPU {meta['cpu']['model']}: "
          + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in meta["cpu"]["flags"].items()),
          flush=True)
    texts = load_texts(args.archive, args.chunks, args.sentences, args.calibration)
    meta.update(chunks=len(texts.chunks), sentences=len(texts.sentences),
                calibration=len(texts.calibration), measured_pages=texts.measured_pages,
                calibration_pages=texts.calibration_pages)
    args.out.mkdir(parents=True, exist_ok=True)
    fp32 = fp32_file()
    feeds = calibration_feeds(texts.calibration)
    variants = project_variants(fp32, args.out)
    for v in ort_variants:
        print(f"quantising ORT static {v} on {len(feeds)} texts", flush=True)
        variants.append(ort_static(fp32, args.out, v, feeds))
    try:
        print(f"quantising with NNCF on {len(feeds)} texts", flush=True)
        variants += openvino_variants(fp32, args.out, feeds)
    except ImportError as error:
        meta["skipped"].append(f"OpenVINO/NNCF ({error}); pip install openvino nncf")
        print(f"skipping OpenVINO: {error}", flush=True)
    rows: list[Row] = []
    for threads in thread_counts:
        reference = None
        for variant in variants:
            row, vectors = measure(variant, threads, texts, args.repeat, reference)
            reference = reference or vectors
            rows.append(row)
            print(f"{row.embedder} T={threads}: {row.chunks_per_s:.1f} chunks/s, "
                  f"{row.sentences_per_s:.1f} sentences/s, query {row.query_ms_p50:.2f} ms, "
                  f"cos {row.chunk_min_cosine:.4f}/{row.sentence_min_cosine:.4f}", flush=True)
    meta["load_end"] = load_average()
    text = report(rows, variants, meta)
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.with_suffix(".md").write_text(text)
    args.results.with_suffix(".json").write_text(json.dumps(
        {**meta, "embedders": [{"name": v.name, "size_bytes": v.size_bytes,
                                "quantise_s": v.quantise_s, "notes": v.notes}
                               for v in variants],
         "rows": [asdict(r) for r in rows]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
