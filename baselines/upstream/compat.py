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
  ``torch.load`` maps storages to the CPU (``weights_only`` stays torch's default, True);
  ``face_alignment.FaceAlignment(..., device='cuda')`` (MakeItTalk's main_end2end.py) gets
  ``device='cpu'``, only where face_alignment is installed.
* face_alignment 1.2.0's ``utils.transform`` writes ``resolution / (200 * scale)`` into a tensor
  with ``scale`` a NumPy float32 (the detector's box), which torch 2.x refuses ("can't assign a
  numpy.float32 to a torch.FloatTensor"): ``scale`` is passed as a Python float (same value).
* ``librosa.filters.mel(sr, n_fft, ...)`` positionally (MakeItTalk's vocoder_spec/extract_f0_func.py;
  keyword-only from librosa 0.10): the two leading positionals are passed as ``sr=``/``n_fft=``.
* ``pynormalize`` absent (not on this machine's package index; MakeItTalk's
  ``src/autovc/AutoVC_mel_Convertor_retrain_version.py`` imports ``pynormalize.pynormalize`` at
  module level and calls ``pynormalize.process_files`` only in ``convert_single_wav_to_input``,
  which ``main_end2end.py`` never calls): an import finder provides ``pynormalize`` and
  ``pynormalize.pynormalize`` when (and only when) they are imported; their ``process_files``
  raises, so nothing is silently skipped.

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


class _PynormalizeFinder:
    """Provides ``pynormalize`` / ``pynormalize.pynormalize`` on import when the package is absent."""

    names = ("pynormalize", "pynormalize.pynormalize")

    def find_spec(self, name, path=None, target=None):
        import importlib.machinery

        if name not in self.names:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=name == "pynormalize")

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        def process_files(*args, **kwargs):
            raise ImportError("pynormalize.process_files: pynormalize is not installed (not on this machine's "
                              "package index); ttsf-bench's compat.py provides the module for imports only")

        module.process_files = process_files
        if module.__name__ == "pynormalize":
            module.__path__ = []
        _note(f"{module.__name__} absent: compat.py provides it for imports only (process_files raises)")


def patch_librosa_mel() -> None:
    import importlib.util

    if importlib.util.find_spec("librosa") is None:
        return
    import librosa.filters

    original = librosa.filters.mel

    def mel(*args, **kwargs):
        for name, value in zip(("sr", "n_fft"), args):
            kwargs[name] = value
        return original(**kwargs)

    librosa.filters.mel = mel


def stub_pynormalize() -> None:
    import importlib.util

    if importlib.util.find_spec("pynormalize") is None:
        sys.meta_path.append(_PynormalizeFinder())


def patch_face_alignment() -> None:
    import importlib.util

    if importlib.util.find_spec("face_alignment") is None:
        return
    import importlib

    import face_alignment
    import torch


    original = face_alignment.FaceAlignment.__init__

    def init(self, *args, **kwargs):  # (landmarks_type, network_size, device, ...)
        args = list(args)
        device = kwargs["device"] if "device" in kwargs else args[2] if len(args) > 2 else "cuda"
        if "cuda" in str(device) and not torch.cuda.is_available():
            _note(f"no CUDA device: face_alignment.FaceAlignment(device={device!r}) -> 'cpu'")
            if len(args) > 2:
                args[2] = "cpu"
            else:
                kwargs["device"] = "cpu"
        original(self, *args, **kwargs)

    face_alignment.FaceAlignment.__init__ = init
    utils = importlib.import_module("face_alignment.utils")
    transform = utils.transform

    def transform_float_scale(point, center, scale, resolution, invert=False):
        return transform(point, center, float(scale), resolution, invert)

    utils.transform = transform_float_scale
    _note("face_alignment.utils.transform: scale passed as a Python float (torch 2.x)")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: compat.py SCRIPT.py [ARGS...]")
    script = argv[0]
    patch_numpy()
    patch_yaml()
    stub_torchaudio()
    alias_functional_tensor()
    patch_torch_cpu()
    stub_pynormalize()
    patch_face_alignment()
    patch_librosa_mel()
    sys.argv = list(argv)
    sys.path.insert(0, ".")
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
