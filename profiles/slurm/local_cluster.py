#!/usr/bin/env python3
"""A single-node SLURM cluster on localhost, for trying and testing profiles/slurm.

Needs Debian's (or Ubuntu's) ``slurm-wlm`` and ``munge`` packages and root (the
daemons run as root here, which a real cluster would not do):

    apt-get install -y slurm-wlm munge
    python profiles/slurm/local_cluster.py up   /tmp/slurm    # prints the SLURM_CONF to export
    SLURM_CONF=/tmp/slurm/slurm.conf snakemake --workflow-profile profiles/slurm ...
    python profiles/slurm/local_cluster.py down /tmp/slurm    # stops the daemons by their pids

Everything (config, state, logs, pid files, munge socket) lives in the given
folder. The one exception is a symlink at Slurm's default config path
(/etc/slurm/slurm.conf), made only when no config is there and removed by
``down``: Snakemake's jobstep plugin strips every ``SLURM_*`` variable,
``SLURM_CONF`` included, before its nested ``srun``, so inside a job only the
default path is found (as on a real cluster). No accounting database is configured,
so Snakemake must query job states with ``squeue`` (``--slurm-status-command
squeue``); MinJobAge keeps finished jobs visible to squeue for an hour.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("slurmd", "slurmctld", "munged")
REQUIRED = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
MUNGE_KEY = Path("/etc/munge/munge.key")
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")


def missing_tools() -> list[str]:
    return [t for t in REQUIRED if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]


def tool(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 1024
    return 4096


def slurm_conf(folder: Path, host: str, cpus: int) -> str:
    return f"""\
ClusterName=localcluster
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={folder}/munge.socket
CredType=cred/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MinJobAge=3600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb()} State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def up(folder: Path, timeout: float = 60.0) -> Path:
    """Start munged, slurmctld and slurmd; return the path of slurm.conf once the node is idle."""
    absent = missing_tools()
    if absent:
        raise SystemExit(f"missing {', '.join(absent)}: apt-get install -y slurm-wlm munge")
    folder = folder.resolve()
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder, host, os.cpu_count() or 1))
    link_default_conf(conf)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    subprocess.run([tool("munged"), "--force", f"--socket={folder}/munge.socket", f"--key-file={MUNGE_KEY}",
                    f"--pid-file={folder}/munged.pid", f"--log-file={folder}/munged.log",
                    f"--seed-file={folder}/munged.seed"], check=True)
    subprocess.run([tool("slurmctld"), "-f", str(conf)], check=True, env=env)
    subprocess.run([tool("slurmd"), "-f", str(conf)], check=True, env=env)
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = subprocess.run([tool("sinfo"), "-h", "-o", "%T"], capture_output=True, text=True, env=env)
        if state.returncode == 0 and state.stdout.strip() in ("idle", "mixed", "allocated"):
            return conf
        time.sleep(0.5)
    down(folder)
    raise SystemExit(f"the node did not become idle within {timeout:.0f} s; see {folder}/*.log")


def link_default_conf(conf: Path) -> None:
    """Point Slurm's default config path at ``conf`` (see the module docstring)."""
    if DEFAULT_CONF.is_symlink() and not DEFAULT_CONF.exists():
        DEFAULT_CONF.unlink()  # left dangling by a cluster that was not taken down
    if DEFAULT_CONF.is_symlink() or DEFAULT_CONF.exists():
        if DEFAULT_CONF.resolve() != conf:
            raise SystemExit(f"{DEFAULT_CONF} already exists: this machine has a SLURM configuration of its own; "
                             "submit to that cluster instead, or move the file away to start a local one")
        return
    DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
    DEFAULT_CONF.symlink_to(conf)


def down(folder: Path, timeout: float = 20.0) -> None:
    """Stop the daemons by the pids in their pid files (slurmd first); remove our default-path link."""
    folder = folder.resolve()
    if DEFAULT_CONF.is_symlink() and DEFAULT_CONF.resolve(strict=False) == folder / "slurm.conf":
        DEFAULT_CONF.unlink()
    for name in DAEMONS:
        pid_file = folder / f"{name}.pid"
        if not pid_file.is_file():
            continue
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
        except (ValueError, IndexError, ProcessLookupError):
            continue
        deadline = time.time() + timeout
        while time.time() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) counts as stopped
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.action == "up":
        conf = up(args.folder)
        print(f"export SLURM_CONF={conf}")
    else:
        down(args.folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
