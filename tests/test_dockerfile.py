"""The Dockerfile is linted (no Docker engine runs here; see docs/docker.md)."""

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
    assert "torch==2.13.0" in text and "whl/cpu" in text  # CPU torch
    assert "HF_HUB_OFFLINE=1" in text
    assert "qa index build seeds" in text  # the index ships in the image
    assert "\nUSER 10001" in text  # non-root
    assert "HEALTHCHECK" in text and "/healthz" in text
