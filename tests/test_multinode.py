"""Multi-node torchrun (gloo on CPU), for real: two nodes on this machine, results equal one process.

The two nodes are two network namespaces joined by a veth pair (as root, with ``ip``), or, where
namespaces are unavailable, two node ranks on distinct loopback addresses; the test output says
which. A node killed mid-run leaves its finished samples, and ``--resume`` with one process
generates only the missing ones and ends with the uninterrupted run's results.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lmms_eval.engine.shared_fs import MARKER_PREFIX, check_shared_run_dir

TESTS = Path(__file__).parent
ROOT = TESTS.parent
TIMEOUT = 240


@dataclass
class Node:
    """How to start one node: a command prefix (``ip netns exec NS``), its address, its env."""

    prefix: list[str]
    addr: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Cluster:
    kind: str
    nodes: list[Node]
    port: int


def _sh(*cmd: str) -> bool:
    return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0


def _netns_cluster(tag: str) -> Cluster | None:
    """Two namespaces ``lmA<tag>`` (10.77.0.1) and ``lmB<tag>`` (10.77.0.2) joined by a veth pair."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return None
    names, links = [f"lmA{tag}", f"lmB{tag}"], [f"lmva{tag}", f"lmvb{tag}"]
    addrs = ["10.77.0.1", "10.77.0.2"]
    steps = [
        *(("ip", "netns", "add", ns) for ns in names),
        ("ip", "link", "add", links[0], "type", "veth", "peer", "name", links[1]),
    ]
    for ns, link, addr in zip(names, links, addrs):
        steps += [
            ("ip", "link", "set", link, "netns", ns),
            ("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", link),
            ("ip", "-n", ns, "link", "set", link, "up"),
            ("ip", "-n", ns, "link", "set", "lo", "up"),
        ]
    if not all(_sh(*step) for step in steps):
        _drop_netns(names)
        return None
    nodes = [
        Node(["ip", "netns", "exec", ns], addr, {"GLOO_SOCKET_IFNAME": link})
        for ns, link, addr in zip(names, links, addrs)
    ]
    return Cluster("network namespaces (veth pair 10.77.0.1 <-> 10.77.0.2)", nodes, 29511)


def _drop_netns(names: list[str]) -> None:
    for ns in names:  # deleting a namespace deletes its end of the veth pair, and so the pair
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def _loopback_cluster() -> Cluster:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        port = s.getsockname()[1]
    env = {"GLOO_SOCKET_IFNAME": "lo"}
    return Cluster(
        "loopback addresses 127.0.0.2 / 127.0.0.3",
        [Node([], "127.0.0.2", dict(env)), Node([], "127.0.0.3", dict(env))],
        port,
    )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    pytest.importorskip("torch")
    tag = str(os.getpid() % 100000)
    # LMMS_EVAL_TEST_NODES=loopback forces the fallback (to check it where namespaces work)
    made = None if os.environ.get("LMMS_EVAL_TEST_NODES") == "loopback" else _netns_cluster(tag)
    chosen = made or _loopback_cluster()
    print(f"two nodes as {chosen.kind}")
    try:
        yield chosen
    finally:
        if made is not None:
            _drop_netns([f"lmA{tag}", f"lmB{tag}"])


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }


def _eval_args(toy_tasks: Path, out: Path, model_args: str = "batch=2") -> list[str]:
    return [
        "-m",
        "lmms_eval",
        "--model",
        "scripted_model:ScriptedModel",
        "--model_args",
        model_args,
        "--tasks",
        "toy_group",
        "--include_path",
        str(toy_tasks),
        "--no_progress",
        "--output_path",
        str(out),
    ]


def _start_nodes(cluster: Cluster, args: list[str], logs: Path) -> list[subprocess.Popen[str]]:
    """``torchrun --nnodes 2 --node_rank R`` on each node (c10d rendezvous: the global ranks go by arrival)."""
    master = cluster.nodes[0].addr
    procs = []
    for rank, node in enumerate(cluster.nodes):
        cmd = [
            *node.prefix,
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "2",
            "--node_rank",
            str(rank),
            "--nproc_per_node",
            "1",
            "--rdzv_backend",
            "c10d",
            "--rdzv_endpoint",
            f"{master}:{cluster.port}",
            "--rdzv_conf",
            f"is_host={int(rank == 0)}",
            "--local_addr",
            node.addr,
            *args,
        ]
        out = open(logs / f"node{rank}.log", "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, env={**_env(), **node.env}))
    return procs


def _wait_all(procs: list[subprocess.Popen[str]], logs: Path) -> list[int]:
    deadline = time.monotonic() + TIMEOUT
    try:
        return [p.wait(timeout=max(1.0, deadline - time.monotonic())) for p in procs]
    finally:
        _kill(procs)
        for p in procs:
            if p.stdout is not None:
                p.stdout.close()


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (torchrun starts each worker in a session of its own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _kill_node(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a node: its launcher and every process under it."""
    for pid in [proc.pid, *_descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def _global_rank(proc: subprocess.Popen[str]) -> int | None:
    """The global rank of the worker a node's launcher started (c10d rendezvous assigns it)."""
    for pid in _descendants(proc.pid):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"RANK="):
                return int(item[5:])
    return None


def _kill(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        if p.poll() is None or _descendants(p.pid):
            _kill_node(p)


def _tail(logs: Path) -> str:
    return "\n".join(f"--- {f.name}\n{f.read_text()[-2500:]}" for f in sorted(logs.glob("node*.log")))


def _one_process(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=_env(), timeout=TIMEOUT)


def _results(root: Path) -> dict:
    data = json.loads(next(root.rglob("results.json")).read_text())
    data.pop("date"), data.pop("timing")
    return data


def _lines(run_dir: Path, task: str) -> list[str]:
    """Every record line of a task: the main log and any rank logs."""
    return [x for f in sorted(run_dir.glob(f"samples_{task}*.jsonl")) for x in f.read_text().splitlines() if x]


def test_two_nodes_match_one_process(cluster: Cluster, toy_tasks: Path, tmp_path: Path) -> None:
    single = _one_process(_eval_args(toy_tasks, tmp_path / "one"))
    assert single.returncode == 0, single.stderr[-3000:]
    logs = tmp_path / "logs"
    logs.mkdir()
    codes = _wait_all(_start_nodes(cluster, _eval_args(toy_tasks, tmp_path / "two"), logs), logs)
    assert codes == [0, 0], _tail(logs)
    assert (logs / "node0.log").read_text().count("| say_word") == 1, "rank 0 (node 0) prints the table"
    assert "| say_word" not in (logs / "node1.log").read_text()
    assert _results(tmp_path / "one") == _results(tmp_path / "two")
    run_dir = next((tmp_path / "two").rglob("results.json")).parent
    assert json.loads((run_dir / "results.json").read_text())["timing"]["world_size"] == 2
    assert not list(run_dir.glob("*.rank*.jsonl")), "rank logs are merged away"
    assert not list(run_dir.glob(MARKER_PREFIX + "*")), "the shared-folder marker is removed"
    for task in ("say_word", "say_upper"):
        ids = [json.loads(x)["id"] for x in _lines(run_dir, task)]
        assert len(ids) == 12 and len(set(ids)) == 12


def test_killed_node_then_resume_on_one_process(cluster: Cluster, toy_tasks: Path, tmp_path: Path) -> None:
    # 24 samples, 12 per rank, 0.15 s each: node 1 is killed after its first finished sample
    slow_args = "batch=1,sleep_s=0.15"  # the same model args for all three runs (resume and results need it)
    slow = _eval_args(toy_tasks, tmp_path / "multi", slow_args)
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = _start_nodes(cluster, slow, logs)
    try:
        deadline = time.monotonic() + TIMEOUT
        finished: list[str] = []
        while not finished:  # a finished line in node 1's (rank 1's) log
            assert time.monotonic() < deadline, _tail(logs)
            assert all(p.poll() is None for p in procs), _tail(logs)
            finished = [
                x for f in (tmp_path / "multi").rglob("samples_*.rank1.jsonl") for x in f.read_text().splitlines()
            ]
            time.sleep(0.1)
        # the node running rank 1 dies (c10d rendezvous, not --node_rank, orders the ranks)
        victim = next(p for p in procs if _global_rank(p) == 1)
        _kill_node(victim)
        survivor = next(p for p in procs if p is not victim)
        try:  # the other node loses its peer: it stops at its next collective (or is killed with the job)
            survivor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    finally:
        _kill(procs)
        for p in procs:
            if p.stdout is not None:
                p.stdout.close()
    run_dir = next((tmp_path / "multi").rglob("run.json")).parent
    assert not (run_dir / "results.json").exists(), "the run was interrupted"
    before = {t: _lines(run_dir, t) for t in ("say_word", "say_upper")}
    kept = sum(len(v) for v in before.values())
    assert 0 < kept < 24, f"{kept} samples finished before the kill"
    assert any(run_dir.glob("samples_*.rank1.jsonl")), "node 1's finished samples are on disk"

    resumed = _one_process([*_eval_args(toy_tasks, tmp_path / "multi", slow_args), "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    uninterrupted = _one_process(_eval_args(toy_tasks, tmp_path / "one", slow_args))
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]
    assert _results(tmp_path / "one") == _results(tmp_path / "multi")
    assert len(list((tmp_path / "multi").rglob("results.json"))) == 1, "resumed in place, not a new run"
    assert not list(run_dir.glob("*.rank*.jsonl")), "the resumed run merged the rank logs"
    for task, old in before.items():
        after = (run_dir / f"samples_{task}.jsonl").read_text().splitlines()
        ids = [json.loads(x)["id"] for x in after]
        assert len(set(ids)) == 12, f"{task}: every sample once"
        assert len(ids) == 12, f"{task}: only the {12 - len(old)} missing samples were generated"
        assert set(old) <= set(after), f"{task}: finished samples are kept as they were"


def test_nodes_without_a_shared_output_folder_stop_at_start(cluster: Cluster, toy_tasks: Path, tmp_path: Path) -> None:
    """Node 1 sees its own empty tmpfs at --output_path (a mount namespace): both nodes refuse to run."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to give one node a private output folder")
    out = tmp_path / "out"
    out.mkdir()
    private = ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount -t tmpfs tmpfs "$0" && exec "$@"']
    cluster.nodes[1].prefix = [*cluster.nodes[1].prefix, *private, str(out)]
    for node in cluster.nodes:
        node.env["LMMS_EVAL_SHARED_FS_TIMEOUT"] = "1"
    logs = tmp_path / "logs"
    logs.mkdir()
    codes = _wait_all(_start_nodes(cluster, _eval_args(toy_tasks, out), logs), logs)
    assert all(code != 0 for code in codes), _tail(logs)
    for rank in (0, 1):
        text = (logs / f"node{rank}.log").read_text()
        assert "multi-node runs need a shared output folder" in text, _tail(logs)
    assert not list(out.rglob("samples_*.jsonl")), "nothing was generated"


class _FakeRank:
    """One non-zero rank of two whose view of the run folder is its own (no shared filesystem)."""

    rank, enabled, is_main = 1, True, False

    def barrier(self) -> None:
        pass

    def broadcast(self, value: object) -> object:
        return "token-from-rank-0"

    def gather(self, value: object) -> list[object]:
        return [(0, "node-a", True), value]


def test_unshared_output_folder_fails_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(Exception) as info:
        check_shared_run_dir(_FakeRank(), str(tmp_path), timeout_s=0.3)
    message = str(info.value)
    assert "\n" not in message and "rank 1 on" in message and "shared output folder" in message
    (tmp_path / (MARKER_PREFIX + "token-from-rank-0")).write_text("token-from-rank-0")
    check_shared_run_dir(_FakeRank(), str(tmp_path), timeout_s=0.3)  # sees it: no error


def test_local_rank_picks_the_gpu_and_global_rank_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.api.errors import UsageError
    from lmms_eval.engine.distributed import LOCAL_RANK_VARS, gpu_index, local_rank_from_env

    for name in LOCAL_RANK_VARS:
        monkeypatch.delenv(name, raising=False)
    assert local_rank_from_env(9) == 9  # nothing set: a single-node launcher's global rank
    monkeypatch.setenv("SLURM_LOCALID", "1")
    assert local_rank_from_env(9) == 1  # srun: rank 9 of 2 x 8 is GPU 1 of its node
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert local_rank_from_env(11) == 3  # torchrun's LOCAL_RANK wins
    assert gpu_index(3, 8) == 3 and gpu_index(5, 1) == 0  # one visible GPU is the process's own
    with pytest.raises(UsageError, match="--nproc_per_node 8"):
        gpu_index(8, 8)
