"""ONNX Runtime sessions, cached per model file and sha256; CUDA when it can load, else CPU."""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.runtime.contract import ModelFileError

logger = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
MAX_CACHED_SESSIONS = 8
# Libraries the CUDA provider of onnxruntime-gpu 1.2x/1.3x loads (CUDA 12, cuDNN 9).
_CUDA_LIBRARIES = ("libcudart.so.12", "libcublasLt.so.12", "libcublas.so.12", "libcudnn.so.9")

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str, tuple[str, ...], int], Any] = OrderedDict()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_digests: dict[tuple[str, int, int], str] = {}


def _cached_digest(path: Path) -> str:
    # Hashing a few MB on every prediction call would cost milliseconds; the digest is
    # recomputed whenever the file's size or modification time changes.
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    digest = _digests.get(key)
    if digest is None:
        digest = file_sha256(path)
        _digests[key] = digest
    return digest


def _driver_has_gpu() -> bool:
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return False
    return count.value > 0


@functools.cache
def cuda_usable() -> bool:
    """True when the CUDA provider can really run: a GPU through the driver and the CUDA,
    cuBLAS and cuDNN libraries loadable. Asking onnxruntime for CUDA without them logs an error
    on every session, so we only ask when this holds."""
    if os.environ.get("SPINELABEL_DISABLE_CUDA", "") not in ("", "0"):
        return False
    import onnxruntime as ort

    if CUDA not in ort.get_available_providers() or not _driver_has_gpu():
        return False
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        # Loads the NVIDIA pip wheels' libraries when present; harmless when system ones are.
        try:
            preload(cuda=True, cudnn=True, msvc=False)
        except Exception:  # any failure just means "no CUDA"
            logger.debug("onnxruntime.preload_dlls failed", exc_info=True)
    for name in _CUDA_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            return False
    return True


def available_providers() -> list[str]:
    """The providers this machine will use, best first: CUDA when usable, then CPU."""
    return [CUDA, CPU] if cuda_usable() else [CPU]


def default_threads() -> int:
    """Intra-op threads: the cores we may use (affinity), at most 8 (small models gain little)."""
    configured = os.environ.get("SPINELABEL_ORT_THREADS")
    if configured:
        return max(1, int(configured))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def create_session(
    path: str | Path,
    *,
    providers: list[str] | None = None,
    threads: int | None = None,
    optimisation: str | None = None,
) -> Any:
    """A new onnxruntime.InferenceSession (uncached); ModelFileError when the file is bad.
    `optimisation` is "all" (the default), "extended" or "basic".

    "all" converts the convolutions to onnxruntime's blocked layout (NCHWc). The shipped
    U-Nets' first level has 8 channels, half an AVX-512 block, and an earlier network measured
    slower with it on AVX-512; the current ones measure faster on both AVX2 (whole sagittal
    path 33.5 against 39.2 ms) and AVX-512 (paired runs on a 2-core AMD EPYC, 2026-12-07:
    sagittal crop 21 %, whole field of view 6 %, axial 11 % less time than "extended")."""
    import onnxruntime as ort

    level = optimisation or "all"
    options = _options(threads or default_threads(), level)
    chosen = providers or available_providers()
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NoSuchFile
        raise ModelFileError(f"model file {path}: onnxruntime cannot load it ({exc})") from exc
    with _lock:
        _made[session] = _Made(Path(path), list(chosen), options.intra_op_num_threads, level)
    return session


def _options(threads: int, level: str) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    levels = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    }
    if level not in levels:
        raise ValueError(f"optimisation must be one of {sorted(levels)}, got {level!r}")
    options.graph_optimization_level = levels[level]
    options.log_severity_level = 3  # errors only: CPU fallback warnings are expected
    return options


@dataclass(frozen=True)
class _Made:
    path: Path
    providers: list[str]
    threads: int
    level: str


# How each session of create_session was made, and its branched sessions (view_session);
# weak keys, so that these go when the session does.
_made: weakref.WeakKeyDictionary[Any, _Made] = weakref.WeakKeyDictionary()
_views: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def view_session(session: Any, output: str) -> Any | None:
    """`session`'s network with a branch for a second view (view_graph.with_view_branch:
    inputs `<input>` and `view/<input>`, outputs the network's and `view/<output>`), made
    once per session and output with the same providers, threads and optimisation. None when
    `session` was not made by `create_session`, its batch is fixed, or the graph cannot be
    branched: the caller then runs the views through `session` itself."""
    with _lock:
        made = _made.get(session)
        if made is None:
            return None
        views = _views.setdefault(session, {})
        if output in views:
            return views[output]
    fixed = session.get_inputs()[0].shape[0]
    branched = None if isinstance(fixed, int) and fixed > 0 else _branch(made, output)
    with _lock:
        return views.setdefault(output, branched)


def _branch(made: _Made, output: str) -> Any | None:
    import onnx
    import onnxruntime as ort

    from inference.runtime.view_graph import with_view_branch

    try:
        model = with_view_branch(onnx.load(str(made.path)), output)
        options = _options(made.threads, made.level)
        return ort.InferenceSession(
            model.SerializeToString(), sess_options=options, providers=made.providers
        )
    except Exception:  # any failure: the caller runs the views through the network itself
        logger.warning("could not branch output %s of %s", output, made.path, exc_info=True)
        return None


def get_session(
    path: str | Path,
    *,
    sha256: str | None = None,
    providers: list[str] | None = None,
    threads: int | None = None,
) -> Any:
    """The cached session of a model file. With `sha256`, the file must have that digest
    (a registry entry whose file was replaced is refused, not silently run)."""
    resolved = Path(path).resolve()
    if not resolved.is_file():
        raise ModelFileError(f"model file {path}: not found")
    digest = _cached_digest(resolved)
    if sha256 is not None and digest != sha256.lower():
        raise ModelFileError(
            f"model file {path}: sha256 is {digest}, the registry expects {sha256.lower()}"
        )
    chosen = tuple(providers or available_providers())
    key = (str(resolved), digest, chosen, threads or default_threads())
    with _lock:
        session = _cache.get(key)
        if session is not None:
            _cache.move_to_end(key)
            return session
    session = create_session(resolved, providers=list(chosen), threads=threads)
    with _lock:
        _cache[key] = session
        while len(_cache) > MAX_CACHED_SESSIONS:
            _cache.popitem(last=False)
    return session


def clear_session_cache() -> None:
    with _lock:
        _cache.clear()
        _digests.clear()


def session_providers(session: Any) -> list[str]:
    """The providers a session really runs on (CUDA may have fallen back to CPU)."""
    return list(session.get_providers())
