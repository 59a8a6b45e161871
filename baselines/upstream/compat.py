"""Run an upstream script under Python 3.11 / torch 2.x / NumPy 2 without editing it.

Usage (cwd = the upstream checkout)::

    UPSTREAM_PYTHON compat.py SCRIPT.py [ARGS...]

Each fix is printed to stderr (it lands in the item's log) so a run says what was
changed. Fixes, all behaviour-preserving for inference:

* ``np.float``/``np.int``/``np.bool``/``np.complex``/``np.object`` (removed in NumPy
  1.24) -> the builtins they always aliased; ``np.VisibleDeprecationWarning`` /
  ``np.ComplexWarning`` (moved to ``np.exceptions`` in NumPy 2) -> those classes.
* ``yaml.load(stream)`` without ``Loader`` (an error since PyYAML 6) -> ``SafeLoader``.
* ``torchaudio`` absent (no torchaudio wheel exists for torch 2.14): an empty module is
  registered so that imports of it succeed (Face-TTS imports it for its LRS3 data loader
  and torch.hub lists it as a dependency of bshall/hifigan); any use of it raises.
* ``torchvision.transforms.functional_tensor`` (imported by basicsr, which SadTalker's gfpgan
  import pulls in; renamed ``_functional_tensor`` in torchvision 0.17): aliased to the new
  name, only where basicsr is installed.
* no CUDA device: ``Tensor.cuda()``/``Module.cuda()`` (and Lightning's override) return CPU objects, and
  ``torch.load`` maps storages to the CPU (``weights_only`` stays torch's default, True).

Runs only in the upstream's environment: imports nothing from ttsf-bench.
"""

from __future__ import annotations

import runpy
import sys


def _note(msg: str) -> None:
    print(f"[ttsf-bench compat] {msg}", file=sys.stderr, flush=True)


def patch_numpy() -> None:
    import numpy as np

    done = []
    for name, value in (("float", float), ("int", int), ("bool", bool), ("complex", complex), ("object", object)):
        if name not in np.__dict__:
            setattr(np, name, value)
            done.append(name)
    exceptions = getattr(np, "exceptions", None)  # NumPy 2 moved the warning classes there
    for name in ("VisibleDeprecationWarning", "ComplexWarning"):
        if exceptions is not None and name not in np.__dict__ and hasattr(exceptions, name):
            setattr(np, name, getattr(exceptions, name))
            done.append(name)
    if done:
        _note("numpy aliases restored: " + ", ".join(f"np.{n}" for n in done))


def patch_yaml() -> None:
    try:
        import yaml
    except ImportError:
        return
    original = yaml.load

    def load(stream, Loader=None, **kw):  # noqa: N803 (PyYAML's spelling)
        return original(stream, Loader=Loader or yaml.SafeLoader, **kw)

    yaml.load = load
    _note("yaml.load defaults to SafeLoader")


def stub_torchaudio() -> None:
    import importlib.machinery
    import importlib.util
    import types

    if importlib.util.find_spec("torchaudio") is not None:
        return

    class _Absent(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            raise ImportError(f"torchaudio.{name}: torchaudio is not installed (none exists for this torch); "
                              "ttsf-bench's compat.py registered an empty module for imports only")

    mod = _Absent("torchaudio")
    mod.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules["torchaudio"] = mod
    _note("torchaudio absent: an empty module satisfies its imports (any use raises)")


def alias_functional_tensor() -> None:
    import importlib
    import importlib.util

    if importlib.util.find_spec("basicsr") is None or "torchvision.transforms.functional_tensor" in sys.modules:
        return
    try:
        importlib.import_module("torchvision.transforms.functional_tensor")
        return
    except ImportError:
        pass
    sys.modules["torchvision.transforms.functional_tensor"] = importlib.import_module(
        "torchvision.transforms._functional_tensor")
    _note("torchvision.transforms.functional_tensor -> torchvision.transforms._functional_tensor (for basicsr)")


def patch_torch_cpu() -> None:
    import torch

    if torch.cuda.is_available():
        return

    def tensor_cuda(self, *args, **kwargs):
        return self

    def module_cuda(self, *args, **kwargs):
        return self

    torch.Tensor.cuda = tensor_cuda
    torch.nn.Module.cuda = module_cuda
    # Lightning modules override .cuda() (DeviceDtypeModuleMixin): the same no-op there
    import importlib

    for name in ("lightning_fabric.utilities.device_dtype_mixin", "pytorch_lightning.core.mixins.device_dtype_mixin"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for cls in ("_DeviceDtypeModuleMixin", "DeviceDtypeModuleMixin"):
            if hasattr(module, cls):
                getattr(module, cls).cuda = module_cuda
    original_load = torch.load

    def load(*args, **kwargs):
        kwargs.setdefault("map_location", "cpu")
        return original_load(*args, **kwargs)

    torch.load = load
    _note(f"no CUDA device: .cuda() is a no-op, torch.load maps to CPU (torch {torch.__version__})")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: compat.py SCRIPT.py [ARGS...]")
    script = argv[0]
    patch_numpy()
    patch_yaml()
    stub_torchaudio()
    alias_functional_tensor()
    patch_torch_cpu()
    sys.argv = list(argv)
    sys.path.insert(0, ".")
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
