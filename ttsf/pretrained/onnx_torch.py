"""ONNX graphs as torch modules, through ``onnx2torch`` (pinned 1.5.15).

``onnx2torch`` converts float graphs. Weight-only quantised graphs (OpenCV Zoo's
``*_int8bq.onnx``: int8 weights, per-block scales and zero points, ``DequantizeLinear``
(+ ``Reshape``) nodes feeding float ``Conv``/``Gemm``) are first constant-folded by
:func:`fold_constant_weights`: every ``DequantizeLinear``/``Reshape``/``Constant`` node whose
inputs are all initialisers is evaluated in numpy and replaced by a float32 initialiser.
The arithmetic is ONNX's (``y = (x - zero_point) * scale``, scales repeated ``block_size``
times along ``axis``), so the folded float graph computes what onnxruntime computes from
the int8 graph (same float weights, float activations); the parity test measures it.
Graph inputs that have an initialiser (SFace's ``scalar_op1``/``scalar_op2``: the 127.5
offset and 1/128 scale) become constants; declared inputs no node reads (SFace lists its
float weights' names as inputs, unused) are dropped (:func:`drop_unused_inputs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
import torch

#: opset the folded graph is declared at for onnx2torch: the float ops left in these graphs
#: (Conv, BatchNormalization, PRelu, Add, Sub, Mul, Dropout, Flatten, Gemm, Reshape) mean the
#: same at 17 as at 21 (opsets 19-21 only add integer/float8 types)
TARGET_OPSET = 17


def _dequantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int, block: int) -> np.ndarray:
    """ONNX ``DequantizeLinear`` (per-tensor, per-axis or blocked) in float32."""
    x = x.astype(np.float32)
    zero = np.zeros_like(scale, dtype=np.float32) if zero is None else zero.astype(np.float32)
    if scale.ndim == 0 or scale.size == 1:
        return (x - zero.reshape(())) * scale.reshape(()).astype(np.float32)
    axis = axis % x.ndim
    if block:
        scale = np.repeat(scale, block, axis=axis)
        zero = np.repeat(zero, block, axis=axis)
        sl = [slice(None)] * x.ndim
        sl[axis] = slice(0, x.shape[axis])
        scale, zero = scale[tuple(sl)], zero[tuple(sl)]
    else:  # per-axis: a 1-D scale along ``axis``
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((x - zero) * scale.astype(np.float32)).astype(np.float32)


def drop_unused_inputs(model):
    """A copy of ``model`` without graph inputs that no node reads (onnxruntime would demand them)."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())
    used = {i for n in model.graph.node for i in n.input}
    keep = [i for i in model.graph.input if i.name in used]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    return model


def fold_constant_weights(model):
    """A copy of ``model`` (``onnx.ModelProto``) with constant DequantizeLinear/Reshape/Constant
    nodes evaluated into float initialisers and inference-mode Dropout nodes removed (identity);
    returns ``(model, {op type: nodes removed})``."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    keep, folded, alias = [], {}, {}
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins = [i for i in node.input if i]
        if node.op_type == "Constant" and "value" in attrs:
            consts[node.output[0]] = numpy_helper.to_array(attrs["value"])
        elif node.op_type == "DequantizeLinear" and all(i in consts for i in ins):
            zero = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            consts[node.output[0]] = _dequantize(consts[node.input[0]], consts[node.input[1]], zero,
                                                 int(attrs.get("axis", 1)), int(attrs.get("block_size", 0)))
        elif node.op_type == "Reshape" and all(i in consts for i in ins):
            consts[node.output[0]] = consts[node.input[0]].reshape(consts[node.input[1]].astype(np.int64))
        elif node.op_type == "Dropout" and len([o for o in node.output if o]) == 1:
            alias[node.output[0]] = alias.get(node.input[0], node.input[0])  # inference: identity
        else:
            for k, name in enumerate(node.input):
                if name in alias:
                    node.input[k] = alias[name]
            keep.append(node)
            continue
        folded[node.op_type] = folded.get(node.op_type, 0) + 1
    for out in graph.output:
        if out.name in alias:
            raise ValueError(f"graph output {out.name} comes straight from a Dropout: not supported")
    used = {i for n in keep for i in n.input} | {o.name for o in graph.output}
    inputs = [i for i in graph.input if i.name not in consts and i.name in used]  # unused inputs dropped
    del graph.node[:]
    graph.node.extend(keep)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(np.ascontiguousarray(v), k)
                             for k, v in consts.items() if k in used)
    del graph.input[:]
    graph.input.extend(inputs)
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx") and op.version > TARGET_OPSET:
            op.version = TARGET_OPSET
    return model, folded


def onnx_to_torch(path: Union[str, Path]) -> tuple[torch.nn.Module, dict]:
    """Load an ONNX file as an eval-mode ``torch.fx.GraphModule``; also returns a note of
    what was done (``{"folded_nodes": {op: n}, "opset": ...}``)."""
    import onnx
    from onnx2torch import convert

    model = onnx.load(str(path))
    opset = max((op.version for op in model.opset_import if op.domain in ("", "ai.onnx")), default=None)
    folded_model, n = fold_constant_weights(model)
    module = convert(folded_model).eval()
    return module, {"folded_nodes": n, "opset": opset, "converted_at_opset": min(opset or TARGET_OPSET, TARGET_OPSET)}
