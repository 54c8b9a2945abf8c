"""A BERT encoder's ONNX graph written straight from its safetensors weights, without torch.

The ONNX backend needs the model as an ONNX graph. Exporting it with torch would put torch
(and on most package indexes a multi-GB CUDA build of it) into every install and image
that only ever serves; the graph of a BERT encoder is small and fixed, so it is written
here op by op from ``config.json`` and ``model.safetensors``, read with numpy. The output
is the last hidden state, exactly what ``transformers.BertModel`` returns (the tests hold
the vectors to the torch model's at cosine 0.9999).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPSET = 17  # LayerNormalization is an ONNX op from opset 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class BertShape:
    """The parts of a BERT ``config.json`` that decide the graph."""

    hidden: int
    heads: int
    layers: int
    eps: float

    @classmethod
    def read(cls, model_dir: Path) -> BertShape:
        """Read and check the config: only absolute-position BERT encoders with GELU."""
        config = json.loads((model_dir / "config.json").read_text())
        if config.get("model_type") != "bert":
            raise ValueError(f"the ONNX backend writes BERT encoders only, not "
                             f"{config.get('model_type')!r}; set QA_EMBEDDER=torch")
        if config.get("hidden_act", "gelu") != "gelu" or \
                config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("the ONNX backend writes BERT encoders with GELU and absolute "
                             "positions only; set QA_EMBEDDER=torch")
        return cls(config["hidden_size"], config["num_attention_heads"],
                   config["num_hidden_layers"], float(config.get("layer_norm_eps", 1e-12)))


def load_weights(model_dir: Path) -> dict[str, np.ndarray]:
    """The encoder's weights by their ``BertModel`` names (a ``bert.`` prefix dropped)."""
    from safetensors.numpy import load_file

    path = model_dir / "model.safetensors"
    if not path.exists():
        raise ValueError(f"the ONNX backend needs {path.name} in {model_dir}; "
                         "set QA_EMBEDDER=torch for this model")
    weights = load_file(str(path))
    return {name.removeprefix("bert."): value for name, value in weights.items()}


class _Graph:
    """Nodes and initialisers under construction, each output given a fresh name."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list = []
        self.initialisers: list = []
        self._count = 0
        self._names: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        """An initialiser; a name already given is the same constant, added once."""
        from onnx import numpy_helper

        if name not in self._names:
            self._names.add(name)
            self.initialisers.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, transpose: bool = False) -> str:
        """A weight as an initialiser; linear layers are stored (out, in), used (in, out)."""
        value = self.weights[name]
        return self.const(name, np.ascontiguousarray(value.T if transpose else value))

    def op(self, kind: str, *inputs: str, **attributes) -> str:
        from onnx import helper

        self._count += 1
        out = f"{kind.lower()}_{self._count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attributes))
        return out

    def linear(self, x: str, prefix: str) -> str:
        return self.op("Add", self.op("MatMul", x, self.weight(f"{prefix}.weight", True)),
                       self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        return self.op("LayerNormalization", x, self.weight(f"{prefix}.weight"),
                       self.weight(f"{prefix}.bias"), axis=-1, epsilon=eps)


def build_model(model_dir: Path):
    """The ONNX ``ModelProto`` of the encoder: token ids, mask and types in, last hidden
    state ``(batch, tokens, hidden)`` out, batch and tokens dynamic."""
    from onnx import TensorProto, checker, helper

    shape = BertShape.read(model_dir)
    g = _Graph(load_weights(model_dir))
    head = shape.hidden // shape.heads
    one = g.const("one", np.array(1.0, dtype=np.float32))
    # Positions 0..tokens-1 come from the input's own length.
    tokens = g.op("Gather", g.op("Shape", "input_ids"), g.const("axis1", np.array(1)), axis=0)
    positions = g.op("Range", g.const("zero_i", np.array(0)), tokens,
                     g.const("one_i", np.array(1)))
    x = g.op("Add", g.op("Add", g.op("Gather", g.weight("embeddings.word_embeddings.weight"),
                                     "input_ids"),
                         g.op("Gather", g.weight("embeddings.position_embeddings.weight"),
                              positions)),
             g.op("Gather", g.weight("embeddings.token_type_embeddings.weight"),
                  "token_type_ids"))
    x = g.layer_norm(x, "embeddings.LayerNorm", shape.eps)
    # Padding gets the lowest float added to its scores, as transformers does: zero weight.
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = g.op("Mul", g.op("Sub", one, mask),
                g.const("lowest", np.array(np.finfo(np.float32).min, dtype=np.float32)))
    bias = g.op("Unsqueeze", bias, g.const("axes12", np.array([1, 2])))
    split = g.const("split_heads", np.array([0, 0, shape.heads, head]))
    merge = g.const("merge_heads", np.array([0, 0, shape.hidden]))
    scale = g.const("scale", np.array(1 / math.sqrt(head), dtype=np.float32))
    for n in range(shape.layers):
        p = f"encoder.layer.{n}"

        def heads(name: str, perm: list[int], x: str = x, p: str = p) -> str:
            return g.op("Transpose", g.op("Reshape", g.linear(x, f"{p}.attention.self.{name}"),
                                          split), perm=perm)

        scores = g.op("MatMul", heads("query", [0, 2, 1, 3]), heads("key", [0, 2, 3, 1]))
        scores = g.op("Add", g.op("Mul", scores, scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1),
                       heads("value", [0, 2, 1, 3]))
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        attended = g.layer_norm(g.op("Add", g.linear(context, f"{p}.attention.output.dense"),
                                     x), f"{p}.attention.output.LayerNorm", shape.eps)
        inner = g.linear(attended, f"{p}.intermediate.dense")
        inner = _gelu(g, inner)
        x = g.layer_norm(g.op("Add", g.linear(inner, f"{p}.output.dense"), attended),
                         f"{p}.output.LayerNorm", shape.eps)
    dynamic = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes, "bert_encoder",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dynamic) for name in INPUTS],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [*dynamic, shape.hidden])],
        g.initialisers)
    # The output keeps its generated name: callers read outputs by position.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="grounded-qa")
    checker.check_model(model)
    return model


def _gelu(g: _Graph, x: str) -> str:
    """The exact (erf) GELU of BERT: x * (1 + erf(x / sqrt 2)) / 2."""
    root2 = g.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = g.const("one", np.array(1.0, dtype=np.float32))
    erf = g.op("Erf", g.op("Div", x, root2))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, one)), half)


def write_model(model_dir: Path, out: Path) -> None:
    """Write the encoder's ONNX file to ``out``."""
    import onnx

    onnx.save_model(build_model(model_dir), str(out))
