"""Filed-catalogue benchmark: filings per second from one process and from two at once, on copies of one real run
(compute-only path, ``tests/filed_runs.py``).

    python benchmarks/catalogue_benchmark.py [--runs 200]

Each copy is a re-run (its result.json differs by ``generated_at``), so each filing is a new version of the same
enterprise and product: the worst case for contention, every transaction reading and writing the same key. Nothing
is asserted: it prints what it measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from filed_runs import SHIPPED, write_run  # noqa: E402

from methodology.execution import filing  # noqa: E402
from methodology.study import Study  # noqa: E402


def _copies(run: Path, folder: Path, n: int) -> list[str]:
    out = []
    for i in range(n):
        dest = folder / f"rerun-{i}"
        shutil.copytree(run, dest)
        data = json.loads((dest / "result.json").read_text())
        data["provenance"]["generated_at"] = f"2030-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"
        (dest / "result.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        out.append(str(dest))
    return out


def _file(db: str, folders: list[str], start) -> None:
    start.wait()
    with filing.connect(db) as c:
        filing.file_paths(c, folders)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    n = ap.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        study = Study.prepare(SHIPPED[2])
        run = write_run(study, tmp / "run", "steel")
        for label, procs in (("one process", 1), ("two processes at once", 2)):
            folders = _copies(run, tmp / f"copies-{procs}", n)
            db = str(tmp / f"catalogue-{procs}.sqlite")
            filing.connect(db).close()
            ctx = multiprocessing.get_context("spawn")
            start = ctx.Event()
            ps = [ctx.Process(target=_file, args=(db, folders[i::procs], start)) for i in range(procs)]
            for p in ps:
                p.start()
            time.sleep(2)  # let the processes import
            t0 = time.perf_counter()
            start.set()
            for p in ps:
                p.join()
            wall = time.perf_counter() - t0
            with filing.connect(db) as c:
                versions = sorted(r["version"] for r in filing.records(c))
            print(f"{label:22}: {n} filings in {wall:.2f} s = {n / wall:.0f} filings/s; "
                  f"versions 1..{n} all present: {versions == list(range(1, n + 1))}")


if __name__ == "__main__":
    main()
