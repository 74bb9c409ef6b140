"""What travels with ``best/`` so a colleague can rerun the model elsewhere: ``requirements.txt`` and the
omicsagent runtime as a wheel in ``best/wheels/``.

``requirements.txt`` lists only the distributions that ``best/train.py`` and ``best/inference.py`` import,
found by reading them (never by running them):

* every import in the two scripts, and any featurizer block or model kind they name in a string;
* for each omicsagent module they import, that module's import-time imports, followed through omicsagent;
* when the model was saved by ``TrainedModel.save``, the block and model kinds recorded in ``model.json``:
  every import in the modules that define them (that is where the heavy libraries are imported, lazily).

Each distribution is pinned to the version installed here. A version with a PyTorch local tag (``+cpu``)
gets the index line that serves it. The omicsagent wheel is packed from the installed package files (no
network, no source checkout, no build backend) once per run and cached in the run's harness folder; it
declares no dependencies, because requirements.txt pins exactly the ones the scripts need.
"""
from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import io
import json
import platform
import re
import shutil
import sys
import zipfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

SCRIPTS = ("train.py", "inference.py")
WHEELS_DIR = "wheels"
PACKAGING_TOOLS = {"pip", "setuptools", "wheel"}
TORCH_FAMILY = {"torch", "torchvision", "torchaudio"}
TORCH_INDEX = "https://download.pytorch.org/whl/{tag}"
TORCH_LOCAL_TAG = re.compile(r"cpu|cu\d+|rocm[\d.]+")


# --- reading imports ---------------------------------------------------------------------------------
def imports_in(source: str, *, module: str = "", everywhere: bool = True) -> set[str]:
    """Dotted names of the modules ``source`` imports. ``everywhere=False``: only the imports that run
    when the module is imported (not those inside functions, nor under ``if TYPE_CHECKING``)."""
    tree = ast.parse(source)
    found: set[str] = set()
    package = module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if not everywhere and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.orelse:
                    visit(ast.Module(body=[sub], type_ignores=[]))
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against the module's package
                    parts = package.split(".") if package else []
                    parts = parts[: len(parts) - (child.level - 1)] if child.level > 1 else parts
                    base = ".".join(p for p in [*parts, base] if p)
                if base:
                    found.add(base)
                    # ``from omicsagent.ml import pipeline`` imports the submodule pipeline
                    found.update(f"{base}.{alias.name}" for alias in child.names if alias.name != "*")
            visit(child)

    visit(tree)
    return found


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def third_party_imports(modules: set[str], *, everywhere: bool = False) -> set[str]:
    """Top-level names of the non-omicsagent modules that importing ``modules`` pulls in, following
    omicsagent modules through their import-time imports (all their imports with ``everywhere``; the
    modules they lead to are always followed through import-time imports only)."""
    found: set[str] = set()
    seen: set[str] = set()
    todo = [(m, everywhere) for m in modules]
    while todo:
        name, full = todo.pop()
        if _top(name) != "omicsagent":
            found.add(_top(name))
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            mod = ".".join(parts[:i])
            key = f"{mod}:{full and i == len(parts)}"
            if key in seen:
                continue
            seen.add(key)
            path = _module_file(mod)
            if path is None:
                continue  # a name imported from a module (``from omicsagent.x import func``), not a module
            todo += [(m, False) for m in imports_in(path.read_text(), module=mod,
                                                     everywhere=full and i == len(parts))]
    return found


def _kind_modules(kinds: set[str]) -> set[str]:
    """The modules defining the featurizer blocks and models of these kinds."""
    from omicsagent.ml.features import block_classes
    from omicsagent.ml.models.base import model_classes

    classes = block_classes() | model_classes()
    return {classes[k].__module__ for k in kinds if k in classes}


def _kinds_in_spec(value) -> set[str]:
    """Every ``"kind"`` in a representation or model spec (ensemble members included)."""
    if isinstance(value, dict):
        out = {value["kind"]} if isinstance(value.get("kind"), str) else set()
        for v in value.values():
            out |= _kinds_in_spec(v)
        return out
    if isinstance(value, list):
        return set().union(*(_kinds_in_spec(v) for v in value)) if value else set()
    return set()


def _string_constants(source: str) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def imported_top_level(best_dir: Path) -> set[str]:
    """Top-level module names that the scripts in ``best_dir`` need (stdlib and local modules included)."""
    sources = {name: (best_dir / name).read_text(errors="replace")
               for name in SCRIPTS if (best_dir / name).is_file()}
    direct: set[str] = set()
    for text in sources.values():
        try:
            direct |= imports_in(text)
        except SyntaxError:
            continue  # the script cannot run anyway; requirements.txt lists what the other one needs
    needed = {_top(m) for m in direct if _top(m) != "omicsagent"}
    ours = {m for m in direct if _top(m) == "omicsagent"}
    if ours:
        needed.add("omicsagent")
        needed |= third_party_imports(ours)
        kinds: set[str] = set()
        meta = best_dir / "model" / "model.json"
        if meta.is_file():
            try:
                saved = json.loads(meta.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                saved = {}
            if isinstance(saved, dict) and "representation" in saved:
                # TrainedModel.load
                needed |= third_party_imports({"omicsagent.ml.pipeline"}, everywhere=True)
                kinds |= _kinds_in_spec(saved.get("representation")) | _kinds_in_spec(saved.get("model"))
        for text in sources.values():
            try:
                kinds |= _string_constants(text)
            except SyntaxError:
                continue
        needed |= third_party_imports(_kind_modules(kinds), everywhere=True)
    local = {p.stem for p in best_dir.glob("*.py")} | {p.name for p in best_dir.iterdir() if p.is_dir()}
    return {m for m in needed if m == "omicsagent" or m not in local}


# --- pinning -------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _distributions_of_modules() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _pin(dist: str) -> tuple[str, str | None]:
    """``name==version`` for ``dist`` and the index option line its version needs (or None)."""
    version = metadata.version(dist)
    public, _, local = version.partition("+")
    if not local:
        return f"{dist}=={version}", None
    if dist.lower() in TORCH_FAMILY and TORCH_LOCAL_TAG.fullmatch(local):
        return f"{dist}=={version}", f"--extra-index-url {TORCH_INDEX.format(tag=local)}"
    return f"{dist}=={public}  # installed here as {version}, a local build", None


def requirements_text(best_dir: Path, *, wheel: Path | None, modules: set[str] | None = None) -> str:
    """The contents of best/requirements.txt for the scripts in ``best_dir``."""
    modules = imported_top_level(best_dir) if modules is None else modules
    std = set(sys.stdlib_module_names) | {"__future__"}
    owners = _distributions_of_modules()
    dists: set[str] = set()
    unknown: list[str] = []
    for m in sorted(modules - std - {"omicsagent"}):
        names = owners.get(m)
        if names:
            dists.add(min(names))
        else:
            unknown.append(m)
    pins, options = [], []
    for dist in sorted((d for d in dists if d.lower() not in PACKAGING_TOOLS and d.lower() != "omicsagent"),
                       key=str.lower):
        pin, option = _pin(dist)
        pins.append(pin)
        if option and option not in options:
            options.append(option)
    lines = ["# What best/train.py and best/inference.py import (found by reading them and the omicsagent",
             "# modules they use), pinned to the versions this model was made with. From the run folder:",
             "#   python -m venv .venv && .venv/bin/pip install -r best/requirements.txt",
             f"# Made with Python {platform.python_version()}."]
    if "omicsagent" in modules and wheel is not None:
        lines.append(f"# omicsagent is the wheel in best/{WHEELS_DIR}/ "
                     "(pip finds the folder beside this file).")
        options.insert(0, f"--find-links {WHEELS_DIR}")
        pins.insert(0, f"omicsagent=={_wheel_version(wheel)}")
    lines += options + pins
    lines += [f"# imported but not installed where the model was made: {m}" for m in unknown]
    return "\n".join(lines) + "\n"


# --- the omicsagent wheel ---------------------------------------------------------------------------------
def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def omicsagent_wheel(cache_dir: Path) -> Path:
    """A pure-Python wheel of the installed omicsagent package, built once and kept in ``cache_dir``
    (rebuilt when the installed files change, e.g. a run resumed after an upgrade)."""
    import omicsagent

    pkg = Path(omicsagent.__file__).resolve().parent
    files = sorted(p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.relative_to(pkg).parts
                   and p.suffix not in (".pyc", ".pyo"))
    try:
        version = metadata.version("omicsagent")
        requires_python = metadata.metadata("omicsagent").get("Requires-Python") or ""
    except metadata.PackageNotFoundError:
        version, requires_python = getattr(omicsagent, "__version__", "0"), ""
    version = re.sub(r"[^\w.+]+", "_", version)
    stamp = hashlib.sha256("\n".join(f"{p.relative_to(pkg)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                     for p in files).encode()).hexdigest()[:16]
    target = cache_dir / "wheels" / stamp / f"omicsagent-{version}-py3-none-any.whl"
    if target.is_file():
        return target
    info = f"omicsagent-{version}.dist-info"
    members: list[tuple[str, bytes]] = [(f"omicsagent/{p.relative_to(pkg).as_posix()}", p.read_bytes())
                                        for p in files]
    meta = ["Metadata-Version: 2.1", "Name: omicsagent", f"Version: {version}",
            "Summary: omicsagent runtime packed with a saved model (dependencies: see requirements.txt)"]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    members.append((f"{info}/METADATA", ("\n".join(meta) + "\n").encode()))
    wheel_file = (b"Wheel-Version: 1.0\nGenerator: omicsagent.agent.bundle\nRoot-Is-Purelib: true\n"
                  b"Tag: py3-none-any\n")
    members.append((f"{info}/WHEEL", wheel_file))
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members)
    record += f"{info}/RECORD,,\n"
    members.append((f"{info}/RECORD", record.encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zinfo = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return target


def write_environment(best_dir: Path, cache_dir: Path) -> None:
    """Write ``best_dir/requirements.txt`` and, when the scripts import omicsagent, ``best_dir/wheels/``."""
    wheel = None
    modules = imported_top_level(best_dir)
    if "omicsagent" in modules:
        wheel = omicsagent_wheel(cache_dir)
        (best_dir / WHEELS_DIR).mkdir(exist_ok=True)
        shutil.copyfile(wheel, best_dir / WHEELS_DIR / wheel.name)
    (best_dir / "requirements.txt").write_text(requirements_text(best_dir, wheel=wheel, modules=modules))
