"""CPU time of the system's processes, read from /proc (Linux): what the Apply
benchmark divides by the applications it sent, per process.

CPU time, not wall time or load: a process's user+system ticks do not grow
because a neighbour is busy, so the figure holds on a noisy machine.

PostgreSQL is the postmaster and its children. Its backends are attributed by
the database they serve (their process title, `postgres: <user> <db> ...`):
only those of the databases under measurement are counted, plus the
background processes (WAL writer, checkpointer, ...); backends of other
databases are shown apart (see Meter).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, with_reaped_children: bool = False) -> float:
    """User+system CPU of `pid` (all its threads); with the reaped children's if asked."""
    fields = _stat_fields(pid)
    # After "pid (comm) ": state is fields[0]; utime, stime, cutime, cstime are fields[11..14].
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS_PER_SECOND


def children(pid: int) -> list[int]:
    """The live child processes of `pid`."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        for task in tasks:
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except FileNotFoundError:
                if not task.exists():
                    continue  # the thread ended meanwhile
                return _children_by_scan(pid)  # a kernel without /proc/<pid>/task/<tid>/children
    except FileNotFoundError:
        return []
    return found


def _children_by_scan(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:  # field 4 of stat: the parent pid
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return found


def _title(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()


def read_pid(path: Path) -> int:
    """The pid in a pid file (PostgreSQL's postmaster.pid holds it on its first line)."""
    return int(path.read_text().split()[0])


class Meter:
    """CPU seconds spent by the watched processes between `start` and the last `tick`, by label.

    PostgreSQL's backends come and go (a pool's overflow connections close
    when given back), so the postmaster's children are followed one by one:
    tick often (every 0.2 s), and a backend's time counts from the start, or
    from its birth if it was born during the measurement, up to the last tick
    that saw it. What exited backends spent after their last tick, or spent
    without ever being seen, is only known in sum, from the postmaster's
    reaped-children time: it is reported apart as unattributed."""

    def __init__(
        self, services: Mapping[str, int], postmaster: int | None, databases: frozenset[str]
    ) -> None:
        self.services, self.postmaster, self.databases = services, postmaster, databases
        self._first: dict[int, float] = {}  # pid -> CPU seconds when first seen (0 if born during the run)
        self._last: dict[int, float] = {}
        self._label: dict[int, str] = {}
        self._reaped_at_start = 0.0
        self._started = False

    def _label_of(self, pid: int) -> str:
        parts = _title(pid).split()
        # A backend: "postgres: <user> <database> <client> <state>", the client a host(port) or [local].
        if parts[:1] == ["postgres:"] and len(parts) >= 4 and (parts[3] == "[local]" or "(" in parts[3]):
            return "postgresql" if parts[2] in self.databases else "postgresql (other databases)"
        return "postgresql"  # the postmaster's background processes: WAL writer, checkpointer, ...

    def _watched(self) -> dict[int, str]:
        pids = {pid: label for label, pid in self.services.items()}
        # A service run with several workers is a uvicorn supervisor and its
        # worker processes: the workers count under the service's label.
        for label, pid in self.services.items():
            for child in children(pid):
                pids[child] = label
                self._label.setdefault(child, label)
        if self.postmaster is not None:
            pids[self.postmaster] = "postgresql"
            for child in children(self.postmaster):
                if child not in self._label:
                    try:
                        self._label[child] = self._label_of(child)
                    except (FileNotFoundError, ProcessLookupError):
                        continue
                pids[child] = self._label[child]
        return pids

    def start(self) -> None:
        """Take the starting point."""
        for pid, label in self._watched().items():
            self._label[pid] = label
            self._first[pid] = self._last[pid] = _or_zero(pid)
        if self.postmaster is not None:
            self._reaped_at_start = _reaped(self.postmaster)
        self._started = True

    def tick(self) -> None:
        """Read every watched process now, and any backend born since the last tick."""
        assert self._started, "start() first"
        for pid in self._watched():
            try:
                spent = cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended since: its last reading stands
            self._first.setdefault(pid, 0.0)  # born during the measurement
            self._last[pid] = spent

    def spent(self) -> dict[str, float]:
        """CPU seconds by label up to the last tick; unattributed exited backends apart."""
        totals: dict[str, float] = {label: 0.0 for label in self.services}
        totals["postgresql"] = totals["postgresql (other databases)"] = 0.0
        for pid, first in self._first.items():
            label = self._label[pid]
            totals[label] = totals.get(label, 0.0) + self._last[pid] - first
        if self.postmaster is not None:
            alive = set(children(self.postmaster))
            exited = sum(self._last[p] for p in self._first if p not in alive and p != self.postmaster)
            unseen = _reaped(self.postmaster) - self._reaped_at_start - exited
            totals["postgresql (exited backends, unattributed)"] = max(0.0, unseen)
        return totals


def _reaped(pid: int) -> float:
    return _or_zero(pid, with_reaped_children=True) - _or_zero(pid)


def _or_zero(pid: int, with_reaped_children: bool = False) -> float:
    try:
        return cpu_seconds(pid, with_reaped_children)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def find_processes(run_dir: Path, services: Iterable[str], databases: Iterable[str]) -> Meter:
    """A meter of the pids `make up` recorded under `run_dir` (.run): services', Kafka's, PostgreSQL's."""
    pids = {name: read_pid(run_dir / "pids" / f"{name}.pid") for name in services}
    postmaster_file = run_dir / "pg" / "data" / "postmaster.pid"
    postmaster = read_pid(postmaster_file) if postmaster_file.exists() else None
    return Meter(pids, postmaster, frozenset(databases))
