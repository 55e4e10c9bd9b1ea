"""``python -m pipeline train``: a second train of a job being trained refuses at once with
a lock message (exit 2); the first one trains on."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import yaml


def test_second_train_of_the_same_job_refuses_with_the_lock_message(tiny_params, fetched, tmp_path):
    tiny_params["experiments"]["gan_ring8"]["train"].update(steps=200000, checkpoint_every=100000)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params))
    (tmp_path / "data").symlink_to(fetched)
    cmd = [sys.executable, "-m", "pipeline", "train", "gan_ring8.0", "--data", "data/ring8", "--out", "runs/x"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = tmp_path / "checkpoints" / "gan_ring8" / "gan_ring8.0.lock"
        deadline = time.time() + 60
        while not (lock.exists() and lock.read_text()):
            assert first.poll() is None and time.time() < deadline, "the first train did not take the lock"
            time.sleep(0.02)
        second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                                check=False)
        assert second.returncode == 2, second.stderr
        assert f"job gan_ring8.0 is being trained by pid {first.pid} on " in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one trains on
    finally:
        first.kill()
        first.wait()
