"""What parity checks against the reference packages share (tests and ``bench/reference_parity.py``).

- :func:`save_random_fid_inception`: seeded random FID-Inception weights written where
  pytorch-fid looks for ``pt_inception-2015-12-05-6726825d.pth`` (``$TORCH_HOME/hub/checkpoints``),
  BatchNorm statistics calibrated on one random batch so the features are not degenerate.
- :func:`syncnet_reference_module`: a module of the ``syncnet-python`` package loaded by file path
  (its ``__init__`` imports the whole video pipeline, which the package was installed without).

Nothing here is used to produce a reported metric value.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

#: the file name pytorch-fid loads from ``$TORCH_HOME/hub/checkpoints``
PT_INCEPTION = "pt_inception-2015-12-05-6726825d.pth"


def save_random_fid_inception(torch_home: Path, seed: int = 0) -> Path:
    """Write seeded random FID-Inception weights under ``torch_home/hub/checkpoints``; their path."""
    import torch

    from eval.metrics.nets.inception import InceptionPool3, build_fid_inception

    torch.manual_seed(seed)
    net = build_fid_inception(None)
    for module in net.modules():  # calibrate BatchNorm so random features are not degenerate
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 1.0
    with torch.no_grad():
        InceptionPool3(net).train()(torch.rand(2, 3, 32, 32))
    hub = Path(torch_home) / "hub" / "checkpoints"
    hub.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), hub / PT_INCEPTION)
    return hub / PT_INCEPTION


def syncnet_reference_module(name: str) -> ModuleType:
    """The module ``name`` (``SyncNetInstance``, ``SyncNetModel``) of the syncnet-python package, by path."""
    spec = importlib.util.find_spec("syncnet_python")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("syncnet-python is not installed (requirements/nodeps.txt)")
    path = Path(spec.submodule_search_locations[0]) / f"{name}.py"
    module_spec = importlib.util.spec_from_file_location(f"_reference_{name}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module
