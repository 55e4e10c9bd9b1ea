"""One train process per job: the lock refuses a second holder and is released however
its holder ends, kill -9 included."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from pipeline.config import make_plan
from pipeline.joblock import JobLockedError, job_lock, lock_path

HOLD = """
import sys, time
from pipeline.config import make_plan
from pipeline.joblock import job_lock
import yaml
plan = make_plan(yaml.safe_load(open(sys.argv[1])))
with job_lock(sys.argv[2], plan.job("gan_ring8.0")):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def job(tiny_params):
    return make_plan(tiny_params).job("gan_ring8.0")


def test_a_second_holder_is_refused_naming_the_first(tmp_path, job):
    with job_lock(tmp_path, job) as path:
        assert path == tmp_path / "gan_ring8" / "gan_ring8.0.lock"
        refused = pytest.raises(JobLockedError, match=r"job gan_ring8.0 is being trained by pid \d+ on ")
        with refused, job_lock(tmp_path, job):
            pass
    assert not (tmp_path / "gan_ring8").exists()  # released, lock file and empty folder removed
    with job_lock(tmp_path, job):
        pass


def test_other_jobs_of_the_experiment_are_not_blocked(tmp_path, tiny_params):
    tiny_params["experiments"]["gan_ring8"].update(shard_size=1)
    plan = make_plan(tiny_params)
    with job_lock(tmp_path, plan.job("gan_ring8.0")), job_lock(tmp_path, plan.job("gan_ring8.1")):
        pass


def test_kill_9_releases_the_lock(workdir, job):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "params.yaml", "ck"], cwd=workdir,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(JobLockedError), job_lock(workdir / "ck", job):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert lock_path(workdir / "ck", job).exists()  # left behind by the kill, yet no obstacle
    start = time.perf_counter()
    with job_lock(workdir / "ck", job):
        assert time.perf_counter() - start < 1
