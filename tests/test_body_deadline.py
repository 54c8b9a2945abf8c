"""The whole request body has a deadline: a client trickling its body byte by byte gets a
408 and its connection closed, against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from index.embedder import HashingEmbedder
from qa.limits import MAX_BODY_BYTES
from service.body_deadline import BodyDeadline, declared_length
from tests.conftest import LiveServer, build, serve, write_stories
from tests.test_hardening import QUESTION, assert_json_error, read_response


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    """A server whose bodies must arrive within 1 s (a 10 s pause between parts, so only
    the deadline can stop a trickle)."""
    tmp = tmp_path_factory.mktemp("deadline")
    embedder = HashingEmbedder(256)
    build(tmp / "ix", embedder, write_stories(tmp / "src"))
    with serve(tmp / "ix", embedder, body_timeout=10.0, body_deadline=1.0,
               body_deadline_per_64k=0.5, min_confidence=0.25) as live:
        live.wait_ready()
        yield live


def test_the_deadline_grows_with_the_declared_size():
    deadline = BodyDeadline()  # the defaults: 5 s at least, 2 s per 64 KiB
    assert deadline.seconds(0, MAX_BODY_BYTES) == 5.0
    assert deadline.seconds(100, MAX_BODY_BYTES) == 5.0
    assert deadline.seconds(3 * 65536 + 1, MAX_BODY_BYTES) == 8.0
    assert deadline.seconds(1 << 20, MAX_BODY_BYTES) == 32.0
    assert deadline.seconds(None, MAX_BODY_BYTES) == 32.0  # chunked: as large as allowed
    assert declared_length([(b"content-length", b"42")]) == 42
    assert declared_length([(b"transfer-encoding", b"chunked")]) is None


def test_a_trickled_body_gets_a_408_at_the_deadline_and_is_dropped(server):
    body = json.dumps(QUESTION).encode()  # one byte every 0.3 s: 20 s and more to send
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    began = time.monotonic()
    sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body))
    sent = 0
    # Send a byte whenever the server has said nothing for 0.3 s, so no byte is sent
    # after its answer (a byte on a closed connection would be answered by a reset).
    while not select.select([sock], [], [], 0.3)[0]:
        assert sent < len(body), "the whole body was sent without a response"
        sock.sendall(body[sent:sent + 1])
        sent += 1
    status, headers, error = read_response(sock)
    took = time.monotonic() - began
    assert_json_error(status, headers, error, 408, "whole request body did not arrive")
    assert json.loads(error)["error"]["type"] == "timeout_error"
    assert headers["connection"] == "close"
    assert took < 4 and sent < len(body) // 2  # at the deadline, long before the body ends
    assert sock.recv(1024) == b""  # the server closed the connection
    sock.close()


def test_a_body_that_arrives_in_time_is_answered(server):
    response = httpx.post(server.url + "/api/chat", json=QUESTION, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["grounded"]
    assert response.headers.get("connection") != "close"  # the connection stays open
