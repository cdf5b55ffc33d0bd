"""Arrow's buffers from the C library's allocator, so that a long-lived worker gives memory
back between the steps of a build.

pyarrow's default pool (mimalloc or jemalloc in its wheels) keeps freed pages for reuse.
A worker that decided a build's dedupe, then read its spread files, then wrote its
published files held on to each step's peak: on a 100,000-article build a Dask worker's
assemble peak fell from 589 to 474 MB with the system pool (docs/scale.md). Set
ARROW_DEFAULT_MEMORY_POOL to choose another pool (mimalloc, jemalloc); it is respected.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

import pyarrow as pa

_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def use_system_pool() -> None:
    """Make the C library's malloc Arrow's default pool in this process and in the processes
    it starts (a LocalCluster's Dask workers read the variable when pyarrow loads), unless
    ARROW_DEFAULT_MEMORY_POOL names another. Idempotent; call it where a process starts
    work (the launcher, each DoFn's setup)."""
    if os.environ.setdefault(_VARIABLE, "system") != "system":
        return
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def trim_heap() -> None:
    """Give the C library's free heap pages back to the system (glibc's malloc_trim; a no-op
    elsewhere), after a step that freed much (Dask's own 'trim_memory' does the same). After
    the dedupe of a 100,000-article build it brought an in-process build from 337 to 309 MB;
    a Dask worker's peak did not move (docs/scale.md)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
