"""What the `auto` embedder decision adds to a cold `aiqa ask` with no model cache and no network.

Runs `python -m aiqa ask --json QUESTION` in fresh processes against one prebuilt index, with
AIQA_EMBEDDER=offline and AIQA_EMBEDDER=auto (the default) interleaved, and prints the median wall
and CPU time of each; then times the `choose_embedder` call alone in fresh processes. HF_HOME is an
empty temporary directory, so nothing is cached; the model hub is whatever HF_ENDPOINT says (unset:
huggingface.co, unreachable on a machine without network), or pass --closed-port to point it at a
loopback port nothing listens on.

    PYTHONPATH=src python benchmarks/embedder_choice.py [--runs 5] [--closed-port]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTION = "温州市人工智能局是什么时候成立的？"
CHOICES = ("offline", "auto")
_DECISION = (
    "import time; from aiqa.embedders import choose_embedder; from aiqa.settings import Settings; "
    "started = time.perf_counter(); choice = choose_embedder(Settings()); "
    "print(time.perf_counter() - started, choice.embedder.name, choice.fallback or '')"
)


def _run(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one `aiqa` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aiqa", *args], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _decision(env: dict[str, str]) -> tuple[float, str]:
    """The `choose_embedder` call alone, in a fresh process (imports excluded)."""
    done = subprocess.run(
        [sys.executable, "-c", _DECISION], env=env, check=True, capture_output=True, text=True
    )
    seconds, reason = done.stdout.strip().split(" ", 1)
    return float(seconds), reason


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--closed-port", action="store_true", help="point HF_ENDPOINT at a closed local port")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIQA_", "HF_"))}
        env.update(
            PYTHONPATH=str(REPO / "src"),
            HF_HOME=str(Path(scratch) / "hf-home"),
            AIQA_CORPUS=str(REPO / "corpus"),
            AIQA_INDEX=str(Path(scratch) / "index"),
        )
        if options.closed_port:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                env["HF_ENDPOINT"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
        _run({**env, "AIQA_EMBEDDER": "offline"}, "index")

        runs: dict[str, list[tuple[float, float]]] = {choice: [] for choice in CHOICES}
        for number in range(options.runs + 1):  # the first round only warms the OS file cache
            # Interleaved, so a change in machine load hits both choices alike.
            for choice in CHOICES:
                timing = _run({**env, "AIQA_EMBEDDER": choice}, "ask", "--json", QUESTION)
                if number:
                    runs[choice].append(timing)
        medians = {}
        for choice in CHOICES:
            walls = [wall for wall, _ in runs[choice]]
            medians[choice] = (statistics.median(walls), statistics.median(cpu for _, cpu in runs[choice]))
            print(
                f"{choice:8} median wall {medians[choice][0]:.3f} s, cpu {medians[choice][1]:.3f} s; "
                f"walls {' '.join(f'{wall:.3f}' for wall in walls)}"
            )
        wall_added = medians["auto"][0] - medians["offline"][0]
        cpu_added = medians["auto"][1] - medians["offline"][1]
        hub = env.get("HF_ENDPOINT", "default")
        print(f"auto adds {wall_added:+.3f} s wall, {cpu_added:+.3f} s cpu (hub: {hub})")

        decisions = [_decision({**env, "AIQA_EMBEDDER": "auto"}) for _ in range(options.runs)]
        seconds = [decision[0] for decision in decisions]
        print(f"the auto decision alone: median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")
        print(f"chosen: {decisions[0][1]}")


if __name__ == "__main__":
    main()
