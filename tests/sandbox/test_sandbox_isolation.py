"""What the bubblewrap sandbox hides and forbids, each checked against a LocalSandbox control that
shows the same script succeeding on the host (so a broken script cannot make the test pass)."""
from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import omicsagent
from omicsagent.sandbox import BwrapSandbox, ExecResult, Limits, LocalSandbox, Workspace

PROBE_READ = """
import json, os, sys
out = {}
for path in sys.argv[1:]:
    try:
        with open(path) as fh:
            out[path] = "READ " + fh.read(20)
    except OSError as exc:
        out[path] = type(exc).__name__
print(json.dumps(out))
"""


def _json(res: ExecResult) -> dict:
    assert res.exit_code == 0, res.output
    return json.loads(res.output.strip().splitlines()[-1])


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        yield server.getsockname()[1]


def test_hidden_files_outside_workspace_are_invisible(
    tmp_path: Path, ws: Workspace, script: Callable[[str, str], str],
    bwrap_sandbox: BwrapSandbox, local_sandbox: LocalSandbox,
) -> None:
    hidden = tmp_path / "hidden_test_labels.csv"
    hidden.write_text("id,label\n1,secret\n")
    targets = [str(hidden)]
    shared = Path("/work/shared/docs/STYLE.md")
    if shared.is_file():
        targets.append(str(shared))
    repo_file = Path(omicsagent.__file__).resolve().parents[2] / "pyproject.toml"
    if repo_file.is_file():  # editable install: the repo root must not be visible, only the package
        targets.append(str(repo_file))
    targets.append("inputs/../../hidden_test_labels.csv")
    ws.add_input(hidden, name="visible.csv")
    targets.append("inputs/visible.csv")
    probe = script("read.py", PROBE_READ)

    host = _json(local_sandbox.run(["python", probe, *targets], workspace=ws))
    assert all(v.startswith("READ") for v in host.values()), host  # control: all exist on the host
    inside = _json(bwrap_sandbox.run(["python", probe, *targets], workspace=ws))
    assert inside.pop("inputs/visible.csv").startswith("READ id,label")
    assert all(v == "FileNotFoundError" for v in inside.values()), inside


def test_filesystem_allow_list(ws: Workspace, script: Callable[[str, str], str],
                               bwrap_sandbox: BwrapSandbox) -> None:
    probe = script("ls.py", """
        import json, os, sys
        def ls(p):
            return sorted(os.listdir(p)) if os.path.isdir(p) else None
        print(json.dumps({"root_dir": ls("/root"), "home": ls("/home"), "etc": ls("/etc"),
                          "src": ls(os.path.dirname(sys.argv[1])), "pids": len([p for p in os.listdir("/proc")
                          if p.isdigit()]), "exe": sys.executable, "cwd": os.getcwd(), "uid": os.getuid()}))
    """)
    package_dir = Path(omicsagent.__file__).parent
    seen = _json(bwrap_sandbox.run(["python", probe, str(package_dir)], workspace=ws))
    assert seen["root_dir"] in (None, [".pyenv"])  # only the interpreter's own version dir
    assert seen["home"] is None
    assert "shadow" not in seen["etc"] and "passwd" in seen["etc"]
    assert seen["src"] == ["omicsagent"] or package_dir.parent.is_relative_to(sys.prefix)
    assert seen["pids"] <= 5  # its own pid namespace: bwrap init, python
    assert seen["exe"] == sys.executable and seen["cwd"] == str(ws.root)  # same paths as outside
    if bwrap_sandbox.user_namespace:
        assert seen["uid"] == 65534


def test_no_network_and_no_dns(ws: Workspace, script: Callable[[str, str], str], listening_port: int,
                               bwrap_sandbox: BwrapSandbox, local_sandbox: LocalSandbox) -> None:
    probe = script("net.py", """
        import json, socket, sys
        out = {}
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
            out["connect"] = "connected"
        except OSError as exc:
            out["connect"] = type(exc).__name__
        try:
            socket.getaddrinfo("example.com", 443)
            out["dns"] = "resolved"
        except OSError as exc:
            out["dns"] = type(exc).__name__
        print(json.dumps(out))
    """)
    argv = ["python", probe, str(listening_port)]
    assert _json(local_sandbox.run(argv, workspace=ws))["connect"] == "connected"  # control
    inside = _json(bwrap_sandbox.run(argv, workspace=ws))
    assert inside["connect"] != "connected" and inside["dns"] != "resolved", inside


def test_writes_only_in_scratch_and_artifacts(tmp_path: Path, ws: Workspace,
                                              script: Callable[[str, str], str],
                                              bwrap_sandbox: BwrapSandbox) -> None:
    (tmp_path / "train.csv").write_text("x")
    ws.add_input(tmp_path / "train.csv")
    outside = tmp_path / "outside.txt"
    package_file = Path(omicsagent.__file__).parent / "planted.py"
    targets = {
        "scratch": ws.scratch / "ok.txt", "artifacts": ws.artifacts / "ok.txt",
        "inputs_new": ws.inputs / "new.csv", "inputs_existing": ws.inputs / "train.csv",
        "root": ws.root / "notes.txt", "usr": Path("/usr/planted"), "etc": Path("/etc/planted"),
        "package": package_file, "outside": outside, "venv": Path(sys.prefix) / "planted",
    }
    probe = script("write.py", """
        import json, sys
        out = {}
        for pair in sys.argv[1:]:
            name, path = pair.split("=", 1)
            try:
                with open(path, "a") as fh:
                    fh.write("planted")
                out[name] = "written"
            except OSError as exc:
                out[name] = type(exc).__name__
        print(json.dumps(out))
    """)
    res = bwrap_sandbox.run(["python", probe, *(f"{k}={v}" for k, v in targets.items())], workspace=ws)
    seen = _json(res)
    assert seen.pop("scratch") == seen.pop("artifacts") == "written"
    # 'outside' lands in the private /tmp tmpfs (the workspace's parents exist there): never on the host
    assert seen.pop("outside") in ("written", "FileNotFoundError", "OSError")
    assert all(v in ("OSError", "PermissionError", "FileNotFoundError") for v in seen.values()), str(seen)
    assert (ws.scratch / "ok.txt").stat().st_uid == os.getuid()  # owned by the caller on the host
    assert (ws.inputs / "train.csv").read_text() == "x"
    for name in ("inputs_new", "root", "usr", "etc", "package", "outside", "venv"):
        assert not targets[name].exists(), name


def test_tmp_is_private_per_run(ws: Workspace, bwrap_sandbox: BwrapSandbox) -> None:
    write = bwrap_sandbox.run(["python", "-c", "open('/tmp/mark', 'w').write('1')"], workspace=ws)
    assert write.ok, write.output
    assert not Path("/tmp/mark").exists()
    again = bwrap_sandbox.run(["python", "-c", "import os; print(os.path.exists('/tmp/mark'))"], workspace=ws)
    assert again.output.strip() == "False"


def test_extra_ro_mounts_are_visible_read_only(tmp_path: Path, ws: Workspace,
                                               bwrap_sandbox: BwrapSandbox) -> None:
    extra = tmp_path / "harness_only"
    extra.mkdir()
    (extra / "test_inputs.csv").write_text("id\n1\n")
    code = ("import sys; print(open(sys.argv[1] + '/test_inputs.csv').read().split()[0]);"
            "open(sys.argv[1] + '/x', 'w')")
    res = bwrap_sandbox.run(["python", "-c", code, str(extra)], workspace=ws, extra_ro_mounts=[extra])
    assert res.output.startswith("id\n") and "Read-only file system" in res.output
    assert not (extra / "x").exists()
    hidden = bwrap_sandbox.run(["python", "-c", code, str(extra)], workspace=ws)
    assert "FileNotFoundError" in hidden.output  # not mounted unless asked for


def test_cannot_create_user_namespaces_or_keep_capabilities(
    ws: Workspace, bwrap_sandbox: BwrapSandbox
) -> None:
    code = ("import ctypes\nprint(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print('refused' if libc.unshare(0x10000000) != 0 else 'unshared')")  # CLONE_NEWUSER
    res = bwrap_sandbox.run(["python", "-c", code], workspace=ws)
    cap_eff, unshare = res.output.split()
    assert int(cap_eff, 16) == 0
    if bwrap_sandbox.user_namespace:
        assert unshare == "refused"


def test_tmpfs_is_capped_by_the_memory_limit(ws: Workspace, bwrap_sandbox: BwrapSandbox) -> None:
    code = ("import sys\nfor path in ('/tmp/big', '/dev/shm/big'):\n"
            "    try:\n        open(path, 'wb').write(b'x' * (110 << 20)); print('written')\n"
            "    except OSError as exc:\n        print(exc.strerror)")
    res = bwrap_sandbox.run(["python", "-c", code], workspace=ws, limits=Limits(memory_mb=200))
    assert res.output.split("\n")[:2] == ["No space left on device"] * 2, res.output
    small = bwrap_sandbox.run(["python", "-c", code], workspace=ws, limits=Limits(memory_mb=1000))
    assert small.output.split("\n")[:2] == ["written"] * 2, small.output


def test_a_throwaway_workspace_reads_the_runs_embedding_cache_read_only(tmp_path: Path,
                                                                        bwrap_sandbox: BwrapSandbox) -> None:
    """harness.model_access with ``run_workspace`` (what the folds, the refit and scoring pass): the run's
    cache is mounted read-only and named in the environment; without it, a fold sees no such folder."""
    from types import SimpleNamespace

    from omicsagent.agent.harness import model_access

    model = tmp_path / "model"
    model.mkdir()
    run_ws = Workspace.create(tmp_path / "run" / "workspace")
    shard = run_ws.scratch / "embedding_cache" / "identity" / "a.npz"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(b"vectors")
    fold = Workspace.create(tmp_path / "run" / ".fold-1" / "workspace")
    settings = SimpleNamespace(extra={"embeddings": {"protein": {"path": str(model)}}})
    journal = SimpleNamespace(settings=settings)
    code = ("import os, sys; d = os.environ.get('OMICSAGENT_EMBEDDING_CACHE_SHARED');"
            "print(d and open(d + '/identity/a.npz').read()); open(d + '/identity/b.npz', 'w')")
    mounts, env = model_access(journal, fold, run_workspace=run_ws.root)
    assert model.resolve() in [Path(m).resolve() for m in mounts]
    res = bwrap_sandbox.run(["python", "-c", code], workspace=fold, env=env, extra_ro_mounts=mounts)
    assert res.output.startswith("vectors\n") and "Read-only file system" in res.output, res.output
    assert not (shard.parent / "b.npz").exists()
    mounts, env = model_access(journal, fold)
    assert "OMICSAGENT_EMBEDDING_CACHE_SHARED" not in env and len(mounts) == 1


def test_a_throwaway_workspace_reads_the_runs_feature_cache_read_only(tmp_path: Path,
                                                                      bwrap_sandbox: BwrapSandbox) -> None:
    """Without any pretrained model configured, every sandboxed script gets its workspace's row-feature
    and fit caches (writable); a fold, the refit or scoring also gets the run's, mounted read-only."""
    from types import SimpleNamespace

    from omicsagent.agent.harness import model_access
    from omicsagent.ml.fitcache import FIT_CACHE_ENV, FIT_CACHE_SHARED_ENV
    from omicsagent.ml.rowcache import FEATURE_CACHE_ENV, FEATURE_CACHE_SHARED_ENV

    run_ws = Workspace.create(tmp_path / "run" / "workspace")
    shard = run_ws.scratch / "feature_cache" / "identity" / "a.npz"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(b"rows")
    fold = Workspace.create(tmp_path / "run" / ".fold-1" / "workspace")
    journal = SimpleNamespace(settings=SimpleNamespace(extra={}))
    code = (f"import os; d = os.environ['{FEATURE_CACHE_SHARED_ENV}'];"
            f"own = os.environ['{FEATURE_CACHE_ENV}']; print(open(d + '/identity/a.npz').read());"
            "os.makedirs(own); open(own + '/mine', 'w').write('x'); open(d + '/identity/b.npz', 'w')")
    mounts, env = model_access(journal, fold, run_workspace=run_ws.root)
    assert [Path(m).resolve() for m in mounts] == [shard.parent.parent.resolve()]
    res = bwrap_sandbox.run(["python", "-c", code], workspace=fold, env=env, extra_ro_mounts=mounts)
    assert res.output.startswith("rows\n") and "Read-only file system" in res.output, res.output
    assert not (shard.parent / "b.npz").exists() and (fold.scratch / "feature_cache" / "mine").exists()
    mounts, env = model_access(journal, run_ws)
    assert mounts == () and env == {FEATURE_CACHE_ENV: str(run_ws.scratch / "feature_cache"),
                                    FIT_CACHE_ENV: str(run_ws.scratch / "fit_cache")}
    # the run's fit cache, once it exists, is mounted read-only into a fold the same way
    (run_ws.scratch / "fit_cache").mkdir()
    mounts, env = model_access(journal, fold, run_workspace=run_ws.root)
    assert (run_ws.scratch / "fit_cache").resolve() in [Path(m).resolve() for m in mounts]
    assert env[FIT_CACHE_SHARED_ENV] == str(run_ws.scratch / "fit_cache")
    assert env[FIT_CACHE_ENV] == str(fold.scratch / "fit_cache")
