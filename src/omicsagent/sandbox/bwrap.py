"""The bubblewrap sandbox: an allow-list of read-only mounts, the workspace at its real path, no network.

The command sees: /usr and the /lib*, /bin, /sbin links; a few /etc files (the loader cache, fonts,
time zone) plus generated passwd/group/hosts/nsswitch.conf; the Python running omicsagent (venv, base
interpreter, the omicsagent package dir when installed editable); the workspace (root and inputs/
read-only, scratch/ and artifacts/ writable); the caller's extra read-only mounts; a private /tmp
(tmpfs, HOME=/tmp/home) and /dev/shm, each capped at half the memory limit, /proc of its own pid
namespace and a minimal /dev. Nothing else exists.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import omicsagent
from omicsagent.errors import SandboxUnavailable
from omicsagent.sandbox.base import Prepared, ProcessSandbox
from omicsagent.sandbox.limits import Limits
from omicsagent.sandbox.workspace import Workspace

SANDBOX_UID = 65534  # inside the user namespace; maps to the caller's own uid outside
HOME = "/tmp/home"
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone", "fonts")
_NAMESPACES = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
_USER_NAMESPACE = ["--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]

Mount = tuple[str, list[str]]  # (destination inside, bwrap arguments)


class BwrapSandbox(ProcessSandbox):
    """Isolation with bubblewrap. Use ``make_sandbox("bwrap")``, which checks that it works here."""

    name = "bwrap"
    isolated = True

    def __init__(self, bwrap: str = "/usr/bin/bwrap", *, user_namespace: bool = True) -> None:
        self.bwrap = bwrap
        self.user_namespace = user_namespace

    def __repr__(self) -> str:
        return f"BwrapSandbox({self.bwrap!r}, user_namespace={self.user_namespace})"

    def flags(self) -> list[str]:
        return [*_NAMESPACES, *(_USER_NAMESPACE if self.user_namespace else [])]

    @contextmanager
    def _prepare(
        self, *, workspace: Workspace, cwd: Path, extra_ro_mounts: Sequence[Path], limits: Limits
    ) -> Iterator[Prepared]:
        uid = SANDBOX_UID if self.user_namespace else os.getuid()
        gid = SANDBOX_UID if self.user_namespace else os.getgid()
        files = {
            "/etc/passwd": (
                "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                f"sandbox:x:{uid}:{gid}::{HOME}:/bin/sh\n"
            ),
            "/etc/group": f"root:x:0:\nsandbox:x:{gid}:\n",
            "/etc/hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
            "/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
        }
        fds: list[int] = []
        try:
            # tmpfs contents are RAM that the RSS poll does not see, so each tmpfs gets half the limit
            tmpfs_bytes = limits.memory_mb * 1024 * 1024 // 2
            mounts = system_mounts(tmpfs_bytes=tmpfs_bytes) + python_mounts() + [(HOME, ["--dir", HOME])]
            for dest, text in files.items():
                fd = os.memfd_create(Path(dest).name)
                fds.append(fd)
                os.write(fd, text.encode())
                os.lseek(fd, 0, os.SEEK_SET)
                mounts.append((dest, ["--perms", "0644", "--ro-bind-data", str(fd), dest]))
            mounts += workspace_mounts(workspace, extra_ro_mounts)
            # parents before children, so that e.g. the workspace is bound on top of the /tmp tmpfs
            mounts.sort(key=lambda m: len(Path(m[0]).parts))
            prefix = [self.bwrap, *self.flags(), *(arg for _, args in mounts for arg in args)]
            prefix += ["--remount-ro", "/"]  # the root tmpfs that holds the mount points, /etc included

            def wrap(command: list[str], env: Mapping[str, str]) -> list[str]:
                # bwrap is started with exactly ``env``; --clearenv/--setenv repeat it so the
                # command's environment does not depend on bwrap passing its own through
                setenv = [arg for name, value in env.items() for arg in ("--setenv", name, value)]
                return [*prefix, "--clearenv", *setenv, "--chdir", str(cwd), "--", *command]

            path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
            yield Prepared(wrap=wrap, path=path, home=HOME, tmpdir="/tmp", pass_fds=tuple(fds))
        finally:
            for fd in fds:
                os.close(fd)


def system_mounts(*, tmpfs_bytes: int = 1 << 30) -> list[Mount]:
    mounts: list[Mount] = [("/usr", ["--ro-bind", "/usr", "/usr"])]
    for name in _SYSTEM_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            mounts.append((str(path), ["--symlink", os.readlink(path), str(path)]))
        elif path.is_dir():
            mounts.append((str(path), ["--ro-bind", str(path), str(path)]))
    for name in _ETC:
        path = Path("/etc") / name
        if path.exists():
            mounts.append((str(path), ["--ro-bind", str(path), str(path)]))
    cpu = Path("/sys/devices/system/cpu")  # lets BLAS/OpenMP count cores
    if cpu.is_dir():
        mounts.append((str(cpu), ["--ro-bind", str(cpu), str(cpu)]))
    size = ["--size", str(tmpfs_bytes)]
    mounts += [("/proc", ["--proc", "/proc"]), ("/dev", ["--dev", "/dev"]),
               ("/dev/shm", [*size, "--tmpfs", "/dev/shm"]), ("/tmp", [*size, "--tmpfs", "/tmp"])]
    return mounts


def python_dirs() -> list[Path]:
    """Folders the running interpreter needs: venv, base installation, and the omicsagent package
    itself when it lives outside both (editable install). Only the package dir, never the repo."""
    wanted: list[Path] = []
    for raw in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
                Path(sys.executable).resolve().parent.parent, Path(omicsagent.__file__).parent):
        for path in (Path(raw).absolute(), Path(raw).resolve()):  # bind both if a symlink is involved
            if path not in wanted:
                wanted.append(path)
    wanted.sort(key=lambda p: len(p.parts))
    chosen: list[Path] = []
    for path in wanted:
        if path.is_relative_to("/usr") or any(path.is_relative_to(c) for c in chosen):
            continue  # already visible
        chosen.append(path)
    return chosen


def python_mounts() -> list[Mount]:
    return [(str(p), ["--ro-bind", str(p.resolve()), str(p)]) for p in python_dirs()]


def workspace_mounts(workspace: Workspace, extra_ro_mounts: Sequence[Path]) -> list[Mount]:
    root = workspace.root.resolve()
    mounts: list[Mount] = [(str(root), ["--ro-bind", str(root), str(root)])]
    for sub in (workspace.scratch, workspace.artifacts):
        sub = sub.resolve()
        mounts.append((str(sub), ["--bind", str(sub), str(sub)]))
    for extra in extra_ro_mounts:
        extra = Path(extra).resolve()
        mounts.append((str(extra), ["--ro-bind", str(extra), str(extra)]))
    return mounts


def probe_bwrap(bwrap: str | None = None) -> BwrapSandbox:
    """Return a working BwrapSandbox, preferring a user namespace; raise SandboxUnavailable if none."""
    path = bwrap or shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed; install it with `sudo apt-get install bubblewrap` "
            "or pass `--sandbox none` to run generated code without isolation."
        )
    mounts = [arg for _, args in system_mounts() for arg in args]
    error = ""
    for user_namespace in (True, False):
        candidate = BwrapSandbox(path, user_namespace=user_namespace)
        try:
            done = subprocess.run(
                [path, *candidate.flags(), *mounts, "--", "true"], env={"PATH": "/usr/bin:/bin"},
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
            continue
        if done.returncode == 0:
            return candidate
        error = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    raise SandboxUnavailable(
        f"bubblewrap cannot create a sandbox here ({error}); install a working bubblewrap "
        "(`sudo apt-get install bubblewrap`, with user namespaces enabled) or pass `--sandbox none`."
    )
