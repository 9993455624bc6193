"""dataset_consistency over one million files: a catalogue of 1,000 datasets against a dump.

Goal: extract (both inputs parsed, compared, tables built) in under a minute, with memory in
proportion to the files (a dict of path -> (size, checksum)). The storage dump holds 98 % of the
catalogued files, 2 % of them with a second replica, 0.1 % with a wrong size or checksum, and
10,000 orphans. Printed: input sizes, extract time, peak resident memory.

Run: .venv/bin/python bench/bench_dataset_consistency.py [files]
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time
from datetime import UTC, datetime

from happyface import RawInput
from happyface.modules.dataset_consistency import DatasetConsistency

FILES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
DATASETS = 1000
ORPHANS = 10_000
LFN_PREFIX, PFN_PREFIX = "/store/", "/pnfs/gridka.de/cms/disk-only/store/"
GOAL_SECONDS = 60.0


def _lfn(dataset: int, number: int) -> str:
    return f"/store/data/Run2024{'ABCDEFGH'[dataset % 8]}/Stream{dataset}/AOD/v1/{number:08d}.root"


def make_inputs(rng: random.Random) -> tuple[bytes, bytes]:
    """The catalogue JSON and the storage dump text, as HappyFace would fetch them."""
    per_dataset = FILES // DATASETS
    datasets, lines = [], []
    for d in range(DATASETS):
        files = []
        for n in range(per_dataset):
            lfn, size, checksum = (
                _lfn(d, n),
                rng.randrange(10**8, 5 * 10**9),
                f"{rng.getrandbits(32):08x}",
            )
            files.append({"logical_file_name": lfn, "file_size": size, "adler32": checksum})
            roll = rng.random()
            if roll < 0.02:
                continue  # missing on storage
            if roll < 0.021:
                size += 1  # a damaged copy
            pfn = PFN_PREFIX + lfn.removeprefix(LFN_PREFIX)
            pools = 2 if roll > 0.98 else 1
            lines += [f"{pfn} {size} {checksum} pool{p}" for p in range(pools)]
        datasets.append({"dataset": f"/Stream{d}/Run2024-v1/AOD", "files": files})
    lines += [f"{PFN_PREFIX}user/orphan/{n:06d}.root {n * 1000} - pool9" for n in range(ORPHANS)]
    rng.shuffle(lines)
    return json.dumps({"datasets": datasets}).encode(), "\n".join(lines).encode()


def main() -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    catalogue, dump = make_inputs(random.Random(42))
    print(
        f"generated {FILES:,} catalogued files in {DATASETS:,} datasets in "
        f"{time.perf_counter() - started:.1f} s: catalogue {len(catalogue) / 1e6:.0f} MB, "
        f"storage dump {len(dump) / 1e6:.0f} MB"
    )
    inputs = {
        "catalogue": RawInput(url="file:catalogue.json", content=catalogue, fetched_at=now),
        "storage": RawInput(url="file:dump.txt", content=dump, fetched_at=now),
    }
    settings = DatasetConsistency.Settings(lfn_prefix=LFN_PREFIX, pfn_prefix=PFN_PREFIX)
    module = DatasetConsistency(settings, {})
    started = time.perf_counter()
    result = module.extract(inputs, now)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = result.metrics
    print(
        f"extract: {seconds:.1f} s (goal < {GOAL_SECONDS:.0f} s); peak RSS {peak_mb:.0f} MB "
        "(inputs included)"
    )
    print(
        f"  {m['files.expected']:,.0f} expected, {m['files.present']:,.0f} present, "
        f"{m['files.corrupt']:,.0f} mismatched, {m['orphans.files']:,.0f} orphans, "
        f"{m['storage.replicas']:,.0f} replicas, completeness {m['completeness']:.2f} %"
    )
    print("PASS" if seconds < GOAL_SECONDS else "FAIL")
    sys.exit(0 if seconds < GOAL_SECONDS else 1)


if __name__ == "__main__":
    main()
