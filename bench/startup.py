"""Start-up bench: what the web process costs before it serves anything, per checkout.

For a checkout (``--repo``, default: the repository this script lives in), each time in
a fresh subprocess with that checkout first on ``PYTHONPATH`` and a fresh temporary data
folder (``RADIO_HOME``; other ``RADIO_*`` variables are dropped):

- ``python -X importtime -c "from radio import create_app; create_app()"``: the
  cumulative microseconds of the top-level ``radio`` import (``import_radio_us``), of
  every top-level import, those ``create_app()`` makes lazily included
  (``import_all_us``), and the subprocess's wall time (``import_wall_ms``); median of
  ``--runs`` after one warm-up run;
- which heavy modules (faster_whisper, ctranslate2, av, scipy) are in ``sys.modules``
  after ``create_app()``, and which file ``radio`` came from (one ``checkout`` line);
- ``python -m radio --home TMP serve --host 127.0.0.1 --port P``, with its in-process
  worker and, if the checkout has the flag, with ``--no-worker``: milliseconds until
  ``/`` answers 200 (``serve_*_ready_ms``), then, 3 s later, VmRSS and VmHWM from
  ``/proc`` summed over the process and its children (``serve_*_rss_mb``,
  ``serve_*_hwm_mb``); median of ``--serve-runs``.

Every figure is one JSON line (median, min, max, runs). With ``--vs OTHER``, both
checkouts are measured alternately (A B A B, so drift on a shared machine hits both
alike) and a last line gives the ratios of the medians, this checkout over the other.
Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX``, so no checkout is written to.

Example: ``python bench/startup.py --vs /tmp/before`` (a ``git worktree`` of the older
commit). Only loopback addresses are used; each subprocess is bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("faster_whisper", "ctranslate2", "av", "scipy")
IMPORT_CODE = "from radio import create_app; create_app()"
MODULES_CODE = """
import json, sys
from radio import create_app
create_app()
import radio
print(json.dumps({
    "radio_file": radio.__file__,
    "radio_modules": sorted(
        getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())
        if n == "radio" or n.startswith("radio.")
    ),
    "loaded": {name: name in sys.modules for name in sys.argv[1:]},
}))
"""
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")
READY_TIMEOUT_S = 60.0
SETTLE_S = 3.0
KILL_AFTER_S = 10.0
RUN_TIMEOUT_S = 120.0


@dataclass
class Checkout:
    label: str
    path: Path
    figures: dict[str, list[float]] = field(default_factory=dict)
    no_worker: bool = False

    def add(self, figures: dict[str, float]) -> None:
        for name, value in figures.items():
            self.figures.setdefault(name, []).append(value)


def emit(record: dict) -> None:
    print(json.dumps({"bench": "startup", **record}), flush=True)


def environment(repo: Path, home: Path, pycache: Path) -> dict[str, str]:
    """The caller's environment without RADIO_*, the checkout first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIO_")}
    env.update(
        PYTHONPATH=str(repo),
        RADIO_HOME=str(home),
        PYTHONPYCACHEPREFIX=str(pycache),
    )
    return env


def run_python(repo: Path, pycache: Path, args: list[str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="radio-bench-home-") as home:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=repo,
            env=environment(repo, Path(home), pycache),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    if done.returncode != 0:
        raise RuntimeError(f"python {args[:2]} failed in {repo}:\n{done.stderr[-2000:]}")
    return done


def import_times(repo: Path, pycache: Path) -> dict[str, float]:
    """One ``-X importtime`` run: the top-level radio import, all top-level imports, wall."""
    started = time.perf_counter()
    done = run_python(repo, pycache, ["-X", "importtime", "-c", IMPORT_CODE])
    wall_ms = (time.perf_counter() - started) * 1000
    radio_us, all_us = None, 0
    for line in done.stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if not found or found.group(3):  # nested imports are inside their parent's sum
            continue
        all_us += int(found.group(2))
        if found.group(4) == "radio":
            radio_us = int(found.group(2))
    if radio_us is None:
        raise RuntimeError(f"no top-level radio import in {repo}:\n{done.stderr[-2000:]}")
    return {"import_radio_us": radio_us, "import_all_us": all_us, "import_wall_ms": wall_ms}


def checkout_facts(checkout: Checkout, pycache: Path) -> dict:
    """Where radio comes from, the heavy modules create_app() leaves loaded, the commit."""
    done = run_python(checkout.path, pycache, ["-c", MODULES_CODE, *HEAVY])
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    outside = [f for f in facts.pop("radio_modules") if f and not f.startswith(str(checkout.path))]
    if not facts["radio_file"].startswith(str(checkout.path)) or outside:
        raise RuntimeError(f"radio was not imported from {checkout.path}: {facts} {outside}")
    help_text = run_python(checkout.path, pycache, ["-m", "radio", "serve", "--help"]).stdout
    checkout.no_worker = "--no-worker" in help_text

    def git(*args: str) -> str:
        cmd = ["git", "--no-optional-locks", "-C", str(checkout.path), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()

    return {
        "dir": str(checkout.path),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        **facts,
        "no_worker_flag": checkout.no_worker,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except OSError:
        return False


def family(pid: int) -> list[int]:
    """The process and all its descendants, from the parent ids in /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def memory_kb(pids: list[int]) -> tuple[int, int]:
    """VmRSS and VmHWM summed over ``pids``."""
    rss = hwm = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        hwm += int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    return rss, hwm


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its own session), SIGKILL after 10 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(KILL_AFTER_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(KILL_AFTER_S)


def serve_once(repo: Path, pycache: Path, worker: bool) -> dict[str, float]:
    """Start ``radio serve`` idle, wait for ``/``, settle, read its memory, stop it."""
    mode = "worker" if worker else "no_worker"
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="radio-bench-home-") as home,
        tempfile.TemporaryFile() as log,
    ):
        cmd = [sys.executable, "-m", "radio", "--home", home, "serve"]
        cmd += ["--port", str(port), "--host", "127.0.0.1"]
        if not worker:
            cmd.append("--no-worker")
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=repo,
            env=environment(repo, Path(home), pycache),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while not answers(port):
                if proc.poll() is not None or time.perf_counter() - started > READY_TIMEOUT_S:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"{' '.join(cmd)} did not answer on / in {repo}:\n{output}")
                time.sleep(0.02)
            ready_ms = (time.perf_counter() - started) * 1000
            time.sleep(SETTLE_S)
            rss, hwm = memory_kb(family(proc.pid))
        finally:
            stop(proc)
    return {
        f"serve_{mode}_ready_ms": ready_ms,
        f"serve_{mode}_rss_mb": rss / 1024,
        f"serve_{mode}_hwm_mb": hwm / 1024,
    }


def report(checkout: Checkout) -> dict[str, float]:
    medians = {}
    for name, values in checkout.figures.items():
        digits = 0 if name.endswith("_us") else 1
        medians[name] = statistics.median(values)
        emit(
            {
                "repo": checkout.label,
                "figure": name,
                "median": round(medians[name], digits),
                "min": round(min(values), digits),
                "max": round(max(values), digits),
                "runs": len(values),
            }
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--vs", type=Path, help="another checkout, measured alternately")
    parser.add_argument("--label", help="name of --repo in the output (after / its folder)")
    parser.add_argument("--vs-label", default="before", help="name of --vs in the output")
    parser.add_argument("--runs", type=int, default=5, help="import runs, after a warm-up")
    parser.add_argument("--serve-runs", type=int, default=3, help="serve runs per mode")
    args = parser.parse_args()
    repo = args.repo.resolve()
    label = args.label or ("after" if args.vs else repo.name)
    checkouts = [Checkout(label, repo)]
    if args.vs:
        checkouts.append(Checkout(args.vs_label, args.vs.resolve()))
    pycache = Path(tempfile.mkdtemp(prefix="radio-bench-pycache-"))
    try:
        for checkout in checkouts:
            facts = checkout_facts(checkout, pycache)
            emit({"repo": checkout.label, "figure": "checkout", **facts})
        for checkout in checkouts:  # warm-up: bytecode compiled, files in the page cache
            import_times(checkout.path, pycache)
        for _ in range(args.runs):
            for checkout in checkouts:
                checkout.add(import_times(checkout.path, pycache))
        for worker in (True, False):
            for _ in range(args.serve_runs):
                for checkout in checkouts:
                    if worker or checkout.no_worker:
                        checkout.add(serve_once(checkout.path, pycache, worker))
        medians = [report(checkout) for checkout in checkouts]
        if args.vs:
            ours, theirs = medians
            ratios = {
                name: round(ours[name] / theirs[name], 3)
                for name in ours
                if name in theirs and theirs[name]
            }
            emit({"repo": f"{checkouts[0].label}/{checkouts[1].label}", "ratios": ratios})
    finally:
        shutil.rmtree(pycache, ignore_errors=True)


if __name__ == "__main__":
    main()
