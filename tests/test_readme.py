"""The README's code blocks are run, and the documentation's links lead somewhere.

Every command in a shell block of README.md is either run here, against a real
``make run`` server, or listed in ``EXEMPT`` with the reason it is not; a new command
that is neither fails ``test_every_command_is_run_or_exempt``. A JSON block right after a
shell block is what that block's last command prints: the real response must have the
same top-level keys. Every relative link in README.md and docs/*.md must point at a file
that exists (and, for a link into a Markdown file, at one of its headings).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

# A fenced block: its language and its body.
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
SHELL = {"sh", "bash", "shell"}
# Blocks that hold no commands: what a command prints, and markup for a host page.
NOT_COMMANDS = {"json", "html"}

# The address the README's commands talk to; the test server's replaces it.
README_ADDRESSES = ("localhost:8000", "127.0.0.1:8000")

# The commands that start the server the others talk to: run by the `readme_server`
# fixture (with the test's index directory and port), not one by one.
SERVER_COMMANDS = {"make run"}

# Commands shown in the README that this suite does not run, and why.
EXEMPT = {
    # This suite is part of what `make test` runs: running it here would run the whole
    # suite again from inside itself (and recurse).
    "make test": "runs this suite",
    # Docker builds take minutes and need an engine: tests/test_docker.py (`make
    # test-docker`, and CI where an engine is installed) runs docker/build.sh, which is
    # what `make docker` runs, and `docker run -p 127.0.0.1:PORT:8000` on the image.
    "make docker": "built by tests/test_docker.py",
    "docker run -p 8000:8000 grounded-qa:latest": "run by tests/test_docker.py",
}


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a Markdown text, as (language, body), in order."""
    return [(m.group(1).lower(), m.group(2)) for m in FENCE.finditer(text)]


def shell_commands(body: str) -> list[str]:
    """The command lines of a shell block: lines joined across backslash continuations,
    comment lines and blank lines left out (trailing comments are dropped by `command_key`
    and by shlex when the command is run)."""
    commands, pending = [], ""
    for line in body.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    assert not pending, f"a shell block ends in a continuation: {pending!r}"
    return commands


def command_key(command: str) -> str:
    """A command's words without its comment, so spacing and comments don't matter."""
    return " ".join(shlex.split(command, comments=True))


def readme_commands() -> list[str]:
    """Every command in the README's shell blocks."""
    return [c for lang, body in fenced_blocks(README.read_text()) if lang in SHELL
            for c in shell_commands(body)]


def command_with_output() -> list[tuple[str, str | None]]:
    """Each command that talks to the server, with the JSON block shown after its shell
    block when it is that block's last command (else None)."""
    blocks = fenced_blocks(README.read_text())
    pairs = []
    for i, (lang, body) in enumerate(blocks):
        if lang not in SHELL:
            continue
        commands = [c for c in shell_commands(body)
                    if command_key(c) not in SERVER_COMMANDS | set(EXEMPT)]
        shown = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "json" else None
        pairs += [(c, shown if n == len(commands) - 1 else None) for n, c in enumerate(commands)]
    return pairs


def test_every_block_is_known() -> None:
    """A block in a language this test does not know (a Python example, say) would go
    untested without anyone noticing: it needs a runner here first."""
    for lang, body in fenced_blocks(README.read_text()):
        assert lang in SHELL | NOT_COMMANDS, f"README block in {lang or 'no language'!r}:\n{body}"


def test_every_command_is_run_or_exempt() -> None:
    """Each README command is run by this module or exempted with a reason."""
    keys = {command_key(c) for c in readme_commands()}
    assert keys >= SERVER_COMMANDS, "the README no longer starts the server with `make run`"
    for key in keys - SERVER_COMMANDS - set(EXEMPT):
        # test_commands runs every curl command against the server.
        assert key.split()[0] == "curl", f"README command neither run nor exempt: {key}"
        assert any(a in key for a in README_ADDRESSES), f"talks to no README address: {key}"
    assert set(EXEMPT) <= keys, f"exempt but no longer in the README: {set(EXEMPT) - keys}"


@pytest.fixture(scope="module")
def readme_server(tmp_path_factory) -> Iterator[str]:
    """`make run` as the README says, with the index in a temporary directory, a free port,
    and the hashing stand-in for the model (the README's question is answered by it too);
    yields the server's address once /readyz says 200, and ends the process group."""
    bin_dir = Path(sys.executable).parent
    if shutil.which("make") is None or not (bin_dir / "qa").exists():
        pytest.skip(f"needs make and the qa script in {bin_dir}")
    tmp = tmp_path_factory.mktemp("readme")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL="hashing-256", QA_DATA_DIR=str(tmp / "data"), INDEX_DIR=str(tmp / "index"),
               HOST="127.0.0.1", PORT=str(port),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    # `make run` first installs a .venv with pip (minutes, and the network); this suite
    # already runs in an installed environment, so make is pointed at it (BIN) and told
    # its install stamp is up to date (-o), and goes straight to building and serving.
    argv = [*shlex.split("make run"), f"BIN={bin_dir}", "-o", f"{bin_dir}/activate"]
    log = (tmp / "make-run.log").open("w")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own group: make and its server
    url = f"http://127.0.0.1:{port}"
    output = tmp / "make-run.log"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make run exited {proc.returncode}:\n{output.read_text()}")
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"not ready in 120 s:\n{output.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.parametrize(("command", "shown"), command_with_output(),
                         ids=[command_key(c)[:60] for c, _ in command_with_output()])
def test_commands(readme_server: str, command: str, shown: str | None) -> None:
    """The command, aimed at the test server, exits 0; a JSON response shown in the README
    has the keys the real one has."""
    address = readme_server.removeprefix("http://")
    for readme_address in README_ADDRESSES:
        command = command.replace(readme_address, address)
    done = subprocess.run(shlex.split(command, comments=True), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    if shown is not None:
        assert set(json.loads(done.stdout)) == set(json.loads(shown))


def test_widget_snippet(readme_server: str) -> None:
    """The script the README's widget snippet loads is served, and defines <qa-chat>."""
    html = [body for lang, body in fenced_blocks(README.read_text()) if lang == "html"]
    sources = re.findall(r'src="https://your-host(/[^"]+)"', "\n".join(html))
    assert sources, "no widget snippet in the README"
    for path in sources:
        response = httpx.get(readme_server + path)
        assert response.status_code == 200, path
    assert "qa-chat" in httpx.get(readme_server + "/widget.js").text


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of a Markdown text's headings (outside code blocks), with GitHub's
    -1, -2 suffixes for repeated ones."""
    found, counts = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", markdown), re.M):
        base = slug(heading)
        n = counts.get(base, 0)
        counts[base] = n + 1
        found.add(f"{base}-{n}" if n else base)
    return found


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links(page: Path) -> None:
    """Every relative link (and image) of the page points at a file that exists, and a link
    into a Markdown page at one of its headings."""
    text = FENCE.sub("", page.read_text())
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, mailto:: not ours to check
            continue
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} points at nothing"
        if fragment and resolved.suffix == ".md":
            assert fragment in anchors(resolved.read_text()), f"{page.name}: no heading {target}"
