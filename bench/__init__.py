"""Benchmarks. Each runs in a process set up as ``qa`` and ``qa serve`` set up theirs
(``service.server.configure_process``: one BLAS and one FAISS thread), so that what is
timed in process is what the service does: with numpy's two BLAS threads, the answer
scorer's small products took several times longer while the other core was busy."""

from service.server import configure_process

configure_process()
