"""Peak resident memory of images.process_image, measured by the kernel (run as a script).

    python tests/helpers/memory_probe.py [--threads N] [--budget BYTES] FILE...

For each FILE in turn (or for all of them at once on N threads), prints one JSON line:
the estimate image_memory makes, and the growth of the process's peak resident set
(VmHWM, reset through /proc/self/clear_refs) over its resident set just before, which
counts every allocation: Pillow's and the codecs' C buffers as well as numpy's and
Python's. tracemalloc would see only the last two.

Run it with MALLOC_MMAP_THRESHOLD_ set (tests/test_images_memory.py does): glibc then maps
every large block afresh and unmaps it when freed, so memory freed by one image cannot be
reused, unseen, by the next.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image  # noqa: E402

from pmc_pipeline import image_memory, images  # noqa: E402


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> int:
    """Reset VmHWM to the current resident set; return that."""
    gc.collect()
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")
    return _status("VmRSS")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--budget", type=int, default=image_memory.DEFAULT_MEMORY_BUDGET)
    args = parser.parse_args(argv)
    datas = [path.read_bytes() for path in args.files]
    warm = io.BytesIO()
    Image.new("RGB", (300, 200)).save(warm, format="PNG")
    images.process_image(warm.getvalue())  # imports, codecs, imagehash's scipy

    if not args.threads:
        for path, data in zip(args.files, datas, strict=True):
            before = _reset_peak()
            images.process_image(data, memory_budget=args.budget)
            growth = _status("VmHWM") - before
            print(
                json.dumps(
                    {"file": path.name, "estimate": images.memory_estimate(data), "peak": growth}
                )
            )
        return

    errors: list[BaseException] = []

    def work(data: bytes) -> None:
        try:
            images.process_image(data, memory_budget=args.budget)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    before = _reset_peak()
    threads = [
        threading.Thread(target=work, args=(datas[i % len(datas)],)) for i in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    growth = _status("VmHWM") - before
    print(
        json.dumps(
            {
                "threads": args.threads,
                "estimates": [images.memory_estimate(d) for d in datas],
                "peak": growth,
                "reserved_peak": image_memory.budget(args.budget).peak,
                "errors": [repr(e) for e in errors],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
