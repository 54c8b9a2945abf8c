"""The ONNX Runtime embedder: the sentence-transformers model, exported once, run without torch.

The packaged weights are written as an ONNX graph on first use (``index.bert_onnx``, from
the safetensors file with numpy: no torch), then optionally quantised by ONNX Runtime's
dynamic int8, into a cache directory, under a name that
hashes what the file depends on (the weight files' path, size and time, the tool
versions, the recipe), so an export is made once and never reused for other weights or
tools. Tokenising is the model's own ``tokenizer.json`` run by
the ``tokenizers`` library; pooling is the model's mean pooling, then L2 normalisation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.bert_onnx import OPSET, write_model
from index.embedder import Embedder, TokenStates, default_cache_dir, normalise

log = logging.getLogger("qa.index")

# Which variants exist and what each records as the manifest's embedder backend.
VARIANTS = {"onnx-int8": "int8", "onnx-fp32": "fp32"}
# Bump when the export or quantisation recipe changes: the cache key includes it.
_RECIPE = "export-4"


class OnnxEmbedder(Embedder):
    """A mean-pooling sentence-transformers model run by ONNX Runtime."""

    def __init__(self, model_dir: str | Path, name: str, backend: str = "onnx-fp32",
                 cache_dir: Path | None = None, threads: int = 0,
                 batch_size: int = 64) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if backend not in VARIANTS:
            raise ValueError(f"unknown ONNX backend {backend!r}; one of {', '.join(VARIANTS)}")
        model_dir = Path(model_dir)
        _check_mean_pooling(model_dir)
        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        self.max_tokens = _max_seq_length(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding()
        path = exported_model(model_dir, VARIANTS[backend], cache_dir or default_cache_dir())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Threads that spin between calls steal the CPU from the other request threads.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    pools_tokens = True

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts: mean of the token states under the attention mask, normalised."""
        hidden, mask = self._run(self.tokenizer.encode_batch(list(texts)))
        return _mean_pool(hidden, mask)

    def token_states(self, texts: Sequence[str]) -> list[TokenStates]:
        """Each text's vector (the model's mean pooling, as ``embed_batch``) and the last
        hidden states of its own tokens with their character offsets."""
        encodings = self.tokenizer.encode_batch(list(texts))
        hidden, mask = self._run(encodings)
        vectors = _mean_pool(hidden, mask)
        out = []
        for row, encoding in enumerate(encodings):
            own = (np.asarray(encoding.special_tokens_mask) == 0) & (mask[row] == 1)
            starts = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)[:, 0]
            out.append(TokenStates(vectors[row], hidden[row][own], starts[own]))
        return out

    def _run(self, encodings: list) -> tuple[np.ndarray, np.ndarray]:
        """The model's last hidden states ``(batch, tokens, dim)`` and the attention mask."""
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask,
                "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return hidden[0], mask.astype(np.float32)


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    summed = (hidden * mask[..., None]).sum(axis=1)
    return normalise(summed / np.maximum(mask.sum(axis=1, keepdims=True), 1))


def exported_model(model_dir: Path, variant: str, cache_dir: Path) -> Path:
    """The ONNX file for these weights and variant, exported into the cache if missing."""
    key = _cache_key(model_dir, variant)
    path = cache_dir / "onnx" / f"{variant}-{key}.onnx"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to ONNX (%s), once, into %s", model_dir.name, variant, path.parent)
    # Written under a temporary name and renamed: a crash never leaves half a model, and
    # two processes exporting at once both end with a whole file.
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        write_model(model_dir, fp32)
        out = fp32
        if variant == "int8":
            out = Path(tmp) / "model-int8.onnx"
            _quantise(fp32, out)
        os.replace(out, path)
    return path


def _quantise(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = fp32.with_name("prepared.onnx")
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    # Per-channel unsigned weights on the matrix products only: measured on 1,000 news
    # sentences, mean cosine 0.992 to the torch model (per-tensor int8 gave 0.959).
    quantize_dynamic(str(prepared), str(out), weight_type=QuantType.QUInt8,
                     per_channel=True, op_types_to_quantize=["MatMul"])


def _cache_key(model_dir: Path, variant: str) -> str:
    import onnx
    import onnxruntime

    digest = hashlib.sha256(f"{_RECIPE} {variant} {OPSET} {onnx.__version__} "
                            f"{onnxruntime.__version__}".encode())
    # The weight files by path, size and modification time, not content: reading 90 MB on
    # every start would cost more than the whole ONNX session load.
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        file = model_dir / name
        if file.exists():
            stat = file.stat()
            digest.update(f"{file.resolve()} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def _check_mean_pooling(model_dir: Path) -> None:
    config = model_dir / "1_Pooling" / "config.json"
    if config.exists() and not json.loads(config.read_text()).get("pooling_mode_mean_tokens"):
        raise ValueError("the ONNX backend supports mean-pooling models only; "
                         "set QA_EMBEDDER=torch for this model")
    if not (model_dir / "tokenizer.json").exists():
        raise ValueError("the ONNX backend needs the model's tokenizer.json; "
                         "set QA_EMBEDDER=torch for this model")
