"""Under ``PROMETHEUS_MULTIPROC_DIR`` the processes of a host are added up: two processes' commands, one scrape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COUNT = """
from api.metrics import Metrics
m = Metrics.from_env()
m.commands.labels("grant", "ok").inc()
m.scheduler.leader.set({leader})
"""
SCRAPE = """
from prometheus_client import generate_latest
from api.metrics import Metrics
print(generate_latest(Metrics.from_env().registry).decode())
"""


def test_two_processes_counts_are_added_up_in_a_third_process_scrape(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}

    def python(code: str) -> str:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    python(COUNT.format(leader=1))
    python(COUNT.format(leader=0))
    text = python(SCRAPE)
    assert 'zonecase_commands_total{command="grant",outcome="ok"} 2.0' in text
    leaders = [line for line in text.splitlines() if line.startswith("zonecase_scheduler_leader{")]
    assert len(leaders) == 2 and sorted(line.rsplit(" ", 1)[1] for line in leaders) == ["0.0", "1.0"]
