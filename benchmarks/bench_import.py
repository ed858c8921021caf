"""Cold import time: telnyx-messaging against aiohttp alone (the floor) and the official SDK.

Every sample is a fresh interpreter (``python -c CODE``), so nothing is cached in memory; the
bytecode caches are warm (one untimed run of each first), as they are after ``pip install``.
Two costs are timed, each as the child's wall time and its CPU time (user + sys, from
``os.wait4``), minus the same for ``python -c "pass"`` measured in the same round:

- ``import``: ``import X`` (for telnyx-messaging this loads almost nothing: its names resolve
  on first use);
- ``ready``: ``import X`` then build an async client and touch ``client.messages``, which is
  where an SDK that defers work to first use (the official one does) pays the rest.

``aiohttp`` alone is the floor: telnyx-messaging depends on it, so it cannot import faster.
Two more comparisons put each way of using the SDK against the dependencies it cannot avoid:

- a webhook receiver, ``from telnyx_messaging import webhooks; webhooks.unwrap``, against
  importing PyNaCl, attrs and cattrs alone (it needs nothing else: no aiohttp);
- a sender, ``from telnyx_messaging import AsyncClient``, against aiohttp, attrs and cattrs
  alone.

Contenders take turns within each round (the order rotates every round) so machine noise hits
them alike; the result is the median over the rounds and the ratios between medians. A last
table is ``python -X importtime``'s own cumulative figure for ``import X``, and a last section
lists what ``import telnyx_messaging`` pulls into ``sys.modules`` (and what it leaves out).

    python benchmarks/bench_import.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
FLOOR = "aiohttp (floor)"
OURS = "telnyx-messaging"
OFFICIAL = "telnyx"

#: name -> module whose import is measured.
MODULES = {FLOOR: "aiohttp", OURS: "telnyx_messaging", OFFICIAL: "telnyx"}
#: name -> code run after the import for the "ready" figure (None: nothing more to do).
READY = {
    FLOOR: None,
    OURS: "telnyx_messaging.AsyncClient(api_key='KEY_benchmark').messages",
    OFFICIAL: "telnyx.AsyncTelnyx(api_key='KEY_benchmark').messages",
}
#: Optional or heavy modules worth knowing about when they are (not) imported. stamina and
#: tenacity are retry libraries: our retry loop is our own, so neither should ever appear.
WATCH = (
    "aiohttp",
    "attrs",
    "cattrs",
    "stamina",
    "tenacity",
    "nacl",
    "httpx",
    "pydantic",
    "anyio",
    "telnyx",
    "telnyx_messaging.webhooks",
    "telnyx_messaging.testing",
)

#: Each way of using the SDK against the dependencies it needs (its floor, listed first).
USES = {
    "webhook receiver": [
        ("PyNaCl+attrs+cattrs", "import attrs, cattrs, nacl.bindings"),
        ("webhooks.unwrap", "from telnyx_messaging import webhooks; webhooks.unwrap"),
    ],
    "sender": [
        ("aiohttp+attrs+cattrs", "import aiohttp, attrs, cattrs"),
        ("AsyncClient", "from telnyx_messaging import AsyncClient"),
    ],
}

Sample = tuple[float, float]  # (wall seconds, CPU seconds) of one child process


def run_child(code: str) -> Sample:
    """Wall and CPU time of ``python -c code`` in a fresh process (raises if it fails)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)  # noqa: S603 - ours
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
    if child.returncode != 0:
        raise RuntimeError(f"python -c {code!r} exited with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def importtime_us(module: str) -> int:
    """``python -X importtime``'s cumulative microseconds for the top-level ``import module``."""
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    pattern = re.compile(rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}$")
    for line in done.stderr.splitlines():
        match = pattern.match(line)
        if match:
            return int(match.group(1))
    raise RuntimeError(f"no top-level line for {module} in -X importtime output")


def available(names: list[str]) -> list[str]:
    kept = []
    for name in names:
        try:
            run_child(f"import {MODULES[name]}")
        except RuntimeError:
            print(f"({MODULES[name]} is not importable: skipping {name})")
        else:
            kept.append(name)
    return kept


def module_report(names: list[str]) -> None:
    """What each import drags into sys.modules, and when the optional pieces arrive."""
    stages = {
        OURS: [
            ("import telnyx_messaging", "import telnyx_messaging"),
            ("+ AsyncClient(...).messages", READY[OURS]),
            ("+ import telnyx_messaging.webhooks", "import telnyx_messaging.webhooks"),
        ],
        "webhooks only": [
            ("from telnyx_messaging import webhooks", USES["webhook receiver"][1][1]),
        ],
        OFFICIAL: [
            ("import telnyx", "import telnyx"),
            ("+ AsyncTelnyx(...).messages", READY[OFFICIAL]),
        ],
        FLOOR: [("import aiohttp", "import aiohttp")],
    }
    script_lines = [
        "import json, sys",
        "base = set(sys.modules)",
        "out = []",
    ]
    print("\nwhat an import pulls in (modules added to sys.modules, cumulative per line)")
    for name in [*names, "webhooks only"]:
        lines = list(script_lines)
        for label, code in stages[name]:
            lines += [
                code,
                f"out.append(({label!r}, len(set(sys.modules) - base),"
                f" [m for m in {WATCH!r} if m in sys.modules]))",
            ]
        lines.append("print(json.dumps(out))")
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", "\n".join(lines)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        for label, count, present in json.loads(done.stdout.splitlines()[-1]):
            absent = [
                m
                for m in WATCH
                if m not in present
                and m != MODULES.get(name)
                and (name in (OURS, "webhooks only") or not m.startswith("telnyx_messaging"))
            ]
            print(f"  {label:<36} {count:>5} modules")
            print(f"  {'':<36} with:    {', '.join(present) or '-'}")
            print(f"  {'':<36} without: {', '.join(absent) or '-'}")


def table(title: str, results: dict[str, list[float]], names: list[str]) -> None:
    medians = {name: statistics.median(results[name]) for name in names}
    print(f"\n{title}")
    print(f"{'':<18}{'median':>10}{'min':>10}{'x floor':>9}{'x ours':>8}   rounds (ms)")
    for name in names:
        values = results[name]
        rounds = " ".join(f"{v * 1e3:.0f}" for v in values)
        ratio_ours = f"{medians[name] / medians[OURS]:7.2f}x" if OURS in medians else "-"
        print(
            f"{name:<18}{medians[name] * 1e3:>8.0f}ms{min(values) * 1e3:>8.0f}ms"
            f"{medians[name] / medians[FLOOR]:>8.2f}x{ratio_ours:>8}   {rounds}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    # `nox -s bench -- ...` passes the same arguments to every benchmark: ignore the others'.
    args, _ = parser.parse_known_args()

    names = available(list(MODULES))
    if FLOOR not in names or OURS not in names:
        raise SystemExit("aiohttp and telnyx_messaging must both be importable")
    # name/kind -> code; "pass" is the interpreter's own start-up, subtracted from the rest.
    codes: dict[tuple[str, str], str] = {("python", "start-up"): "pass"}
    for name in names:
        codes[name, "import"] = f"import {MODULES[name]}"
        if READY[name] is not None:
            codes[name, "ready"] = f"import {MODULES[name]}; {READY[name]}"
    for use, rows in USES.items():
        for label, code in rows:
            codes[use, label] = code
    for code in codes.values():  # warm up: bytecode caches, the OS's file cache
        run_child(code)

    samples: dict[tuple[str, str], list[Sample]] = {key: [] for key in codes}
    keys = list(codes)
    for round_number in range(args.rounds):
        shift = round_number % len(keys)
        for key in keys[shift:] + keys[:shift]:
            samples[key].append(run_child(codes[key]))
    # Pair each sample with its round's start-up: the difference is what the code added.
    start_up = samples["python", "start-up"]

    def added(key: tuple[str, str], which: int) -> list[float]:
        return [s[which] - base[which] for s, base in zip(samples[key], start_up, strict=True)]

    python_wall = statistics.median(s[0] for s in start_up)
    print(
        f"cold import, fresh `python -c` per sample, {args.rounds} rounds (median), "
        f"minus `python -c pass` ({python_wall * 1e3:.0f} ms wall) of the same round"
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        + ", ".join(f"{m} {version(m)}" for m in ("aiohttp", "telnyx"))
    )
    for kind, label in (("import", "import X"), ("ready", "import X + client.messages")):
        # The floor's "ready" is its import: there is no client to build.
        wall = {n: added((n, kind if (n, kind) in codes else "import"), 0) for n in names}
        cpu = {n: added((n, kind if (n, kind) in codes else "import"), 1) for n in names}
        table(f"{label}: wall time", wall, names)
        table(f"{label}: CPU time (user + sys)", cpu, names)

    for use, rows in USES.items():
        print(f"\n{use}: each against its floor (first row), wall / CPU time")
        floor_wall = statistics.median(added((use, rows[0][0]), 0))
        floor_cpu = statistics.median(added((use, rows[0][0]), 1))
        for label, code in rows:
            wall = statistics.median(added((use, label), 0))
            cpu = statistics.median(added((use, label), 1))
            print(
                f"  {label:<22}{wall * 1e3:>6.0f}ms{wall / floor_wall:>7.2f}x"
                f"{cpu * 1e3:>8.0f}ms{cpu / floor_cpu:>7.2f}x   {code}"
            )

    print("\npython -X importtime, cumulative for `import X` (median of 3 runs)")
    cumulative = {
        name: statistics.median(importtime_us(MODULES[name]) for _ in range(3)) for name in names
    }
    for name in names:
        us = cumulative[name]
        print(
            f"{name:<18}{us / 1e3:>8.0f}ms{us / cumulative[FLOOR]:>8.2f}x"
            f"{us / cumulative[OURS]:>7.2f}x"
        )

    module_report(names)


def version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(module)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
