"""Run a feature network with ONNX Runtime on CPU: the same graph, exported from its torch module.

Why: on this project's 2-core CPUs the depthwise-separable networks behind the offline Table 1
backends run faster in ONNX Runtime than in eager PyTorch (MobileNetV2 of ``fd_mobilenetv2``
about 2.5x, WHENet of ``diversity/whenet`` about 1.3-1.5x; ``python -m bench.ort_networks``).
What changes: float32 rounding only (tests pin the outputs against the torch module,
``tests/eval/metrics/nets/test_ort.py``).

How: the module (weights loaded, ``eval()``) is exported in memory with torch's TorchScript
exporter (``dynamo=False``, opset 17, batch axis dynamic) at load, 1-2 s, and run by an
``onnxruntime.InferenceSession`` on the CPU provider with ``torch.get_num_threads()`` intra-op
threads (one inter-op thread) read when the session is made, so ``--threads`` /
``OMP_NUM_THREADS`` govern it as they govern torch (a later ``torch.set_num_threads`` does not
reach an existing session). Nothing is written to disk. The runtime a metric used is recorded in
its ``info`` and, where it is not torch, in its per-item score key (``eval.run.score``).
"""

from __future__ import annotations

import io
import warnings
from typing import Sequence

import numpy as np
import torch

#: The runtimes a metric that supports this module accepts.
RUNTIMES = ("onnxruntime", "torch")
OPSET = 17


def onnxruntime_installed() -> bool:
    """Whether both ``onnxruntime`` and ``onnx`` (needed by torch's exporter) are importable."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def resolve_runtime(runtime: str | None, paper: bool, device: str) -> str:
    """The runtime of a backend's network: ``runtime`` if given and allowed, else ONNX Runtime for
    an offline backend on the CPU when it is installed (requirements/extras.txt) and torch
    otherwise; the choice is recorded with the result. Paper backends stay in torch, where their
    parity with the reference packages is tested."""
    usable = not paper and str(device) == "cpu"
    default = "onnxruntime" if usable and onnxruntime_installed() else "torch"
    runtime = default if runtime is None else runtime
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "onnxruntime" and not usable:
        raise ValueError(f"runtime 'onnxruntime' is for the offline backends on the CPU (device {device!r}"
                         f"{', a paper backend' if paper else ''}); use runtime='torch'")
    if runtime == "onnxruntime" and not onnxruntime_installed():
        raise ValueError("runtime 'onnxruntime' needs the onnxruntime and onnx packages "
                         "(pip install -r requirements/extras.txt), or use runtime='torch'")
    return runtime


def export_onnx(module: torch.nn.Module, example: torch.Tensor, n_outputs: int) -> bytes:
    """The ONNX bytes of ``module`` traced on ``example`` (batch axis dynamic)."""
    outputs = [f"y{i}" for i in range(n_outputs)]
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns that it is deprecated and that shape arithmetic is traced
        # as constants: both expected (input sizes are fixed by the caller, the batch is dynamic).
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), example, buffer, input_names=["x"], output_names=outputs,
                          dynamic_axes={"x": {0: "batch"}, **{name: {0: "batch"} for name in outputs}},
                          opset_version=OPSET, dynamo=False)
    return buffer.getvalue()


class OrtNetwork:
    """``module`` run by ONNX Runtime: called with a float32 CPU tensor of ``example``'s shape
    (any batch size), it returns a tensor, or a tuple of ``n_outputs`` tensors."""

    def __init__(self, module: torch.nn.Module, example: torch.Tensor, n_outputs: int = 1,
                 threads: int | None = None):
        import onnxruntime

        self.input_shape = tuple(example.shape[1:])
        self.n_outputs = n_outputs
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(export_onnx(module, example, n_outputs), options,
                                                    providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"input {tuple(x.shape)} does not match the exported (batch, *{self.input_shape})")
        array = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        outs: Sequence[np.ndarray] = self.session.run(None, {"x": array})
        tensors = tuple(torch.from_numpy(out) for out in outs)
        return tensors[0] if self.n_outputs == 1 else tensors
