"""Placeholder checkpoints for SadTalker (TESTS ONLY): every file ``inference.py`` loads.

* ``checkpoints/SadTalker_V0.0.2_256.safetensors``: random-init state dicts of the
  upstream's own ``face_3drecon`` (``networks.define_net_recon('resnet50')``),
  ``audio2pose`` (``Audio2Pose``), ``audio2exp`` (``SimpleWrapperV2``), and the face renderer's
  ``generator`` (``OcclusionAwareSPADEGenerator``), ``kp_extractor`` (``KPDetector``) and
  ``he_estimator`` (``HEEstimator``) from ``src/config/facerender.yaml``, under the prefixes
  its loaders strip; the marker is a key of the safetensors ``__metadata__``.
* ``checkpoints/mapping_00229-model.pth.tar`` / ``mapping_00109-model.pth.tar``:
  ``{"mapping": MappingNet(...).state_dict(), "epoch": 0, MARKER: ...}`` from
  ``facerender.yaml`` / ``facerender_still.yaml``.
* ``gfpgan/weights/detection_Resnet50_Final.pth`` (facexlib ``RetinaFace('resnet50')``) and
  ``gfpgan/weights/alignment_WFLW_4HG.pth`` (SadTalker's own ``FAN(num_modules=4,
  num_landmarks=98)``): NOT random. With random weights RetinaFace finds no face and
  SadTalker stops ("can not detect the landmark from source image"), so these two are
  CRAFTED, deterministically, so that the pipeline runs; they detect nothing, they are
  fixed geometry:

  - RetinaFace: FPN ``output3`` is made a constant map (conv weights 0, BN bias 1); the
    stride-32 SSH averages it with 3x3 kernels (zero padding makes a map that peaks at the
    centre); the stride-32 class head scores only that peak (the 256-px anchor) above the
    0.97 threshold used by SadTalker; the box regression is a constant that shrinks the
    anchor to 3/4 of its side. Result: one box, 3/4 of the image's side, at the image centre
    (for SadTalker's 256x256 inputs), whatever the picture.
  - FAN: every layer is zero except the last hourglass's coordinate channels (CoordConv)
    and the heads, which turn the x/y coordinate maps into, for landmark k,
    ``-|S(x) - S(x_k)| - |S(y) - S(y_k)|`` (S: the hourglass's monotone response to the
    coordinate map, measured here), whose arg-max is (x_k, y_k): a fixed mean-face template
    drawn below (WFLW's 98-point order), whatever the picture.

  Marked like the others (top-level key, or the state dict's ``_metadata`` where the
  loader is strict).

    UPSTREAM_PYTHON placeholder_sadtalker.py CHECKOUT [--seed N]
"""

from __future__ import annotations

import json
import math
import os

from placeholder_cli import enter_checkout

MARKER = "__ttsf_bench_placeholder__"


def wflw_template() -> list[tuple[int, int]]:
    """98 landmark positions on the 64x64 heat-map grid, in WFLW's order (a drawn mean face)."""
    pts: list[tuple[float, float]] = []
    for i in range(33):  # 0-32 contour, left to right through the chin
        t = math.pi * i / 32
        pts.append((32 - 28 * math.cos(t), 24 + 36 * math.sin(t)))
    for x0, x1 in ((10, 28), (36, 54)):  # 33-41 / 42-50 eyebrows: upper (5, left-right) + lower (4, right-left)
        pts += [(x0 + (x1 - x0) * i / 4, 15) for i in range(5)]
        pts += [(x1 - 2 - (x1 - x0 - 4) * i / 3, 17) for i in range(4)]
    pts += [(32, 22 + 4 * i) for i in range(4)]  # 51-54 nose bridge
    pts += [(26 + 3 * i, 38) for i in range(5)]  # 55-59 nostrils
    for cx in (20, 44):  # 60-67 / 68-75 eyes, from the outer corner, clockwise
        pts += [(cx + 6 * math.cos(math.pi + k * math.pi / 4), 26 + 3 * math.sin(math.pi + k * math.pi / 4))
                for k in range(8)]
    for n, rx, ry in ((12, 10, 5), (8, 7, 2)):  # 76-87 outer lip, 88-95 inner lip
        pts += [(32 + rx * math.cos(math.pi + k * 2 * math.pi / n), 48 + ry * math.sin(math.pi + k * 2 * math.pi / n))
                for k in range(n)]
    pts += [(20, 26), (44, 26)]  # 96, 97 pupils
    assert len(pts) == 98
    return [(min(63, max(0, round(x))), min(63, max(0, round(y)))) for x, y in pts]


def craft_retinaface(model, torch) -> None:
    """Deterministic weights: one centred box (see the module docstring)."""
    with torch.no_grad():
        out3 = model.fpn.output3
        out3[0].weight.zero_()
        out3[1].bias.fill_(1.0)
        for seq in (model.ssh3.conv3X3, model.ssh3.conv5X5_1, model.ssh3.conv5X5_2, model.ssh3.conv7X7_2,
                    model.ssh3.conv7x7_3):
            conv = seq[0]
            conv.weight.fill_(1.0 / (conv.weight.shape[1] * 9))
        for head in (*model.ClassHead, *model.BboxHead, *model.LandmarkHead):
            head.conv1x1.weight.zero_()
            head.conv1x1.bias.zero_()
        for head in model.ClassHead:  # (anchor, class) pairs: class 0 wins everywhere ...
            head.conv1x1.bias.copy_(torch.tensor([0.0, -50.0, 0.0, -50.0]))
        # ... except the stride-32 level's first anchor at the centre peak of the averaged map
        model.eval()
        probe = model.ssh3(model.fpn.output3(torch.zeros(1, model.fpn.output3[0].weight.shape[1], 8, 8)))
        channel = probe.shape[1] * 3 // 4  # the first conv7x7 channel (three 3x3 averages)
        peak = probe[0, channel]
        top = float(peak.max())
        second = float(peak[peak < top].max())
        gain = 20.0 / (top - second)
        cls = model.ClassHead[2].conv1x1
        cls.weight[1, channel] = gain
        cls.bias[1] = -gain * (top + second) / 2 + 10.0  # peak: logit +20 over class 0; next: 0
        box = model.BboxHead[2].conv1x1  # (dx, dy, dw, dh) per anchor: sides x 3/4, centre kept
        box.bias[2] = box.bias[3] = math.log(0.75) / 0.2


def craft_fan(model, torch) -> None:
    """Deterministic weights: the fixed template's arg-max per landmark (see the module docstring)."""
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for m in model.modules():  # BatchNorm back to identity (running stats are already 0 / 1)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.fill_(1.0)
        last = model.num_modules - 1
        hg = model._modules[f"m{last}"]
        conv = hg.coordconv.conv  # input: 256 features, xx, yy, rr, boundary xx, boundary yy
        conv.weight[0, 256] = 1.0
        conv.weight[1, 257] = 1.0
        model.eval()
        resp, _ = hg(torch.zeros(1, 256, 64, 64), torch.zeros(1, model.num_landmarks + 1, 64, 64))
        resp = resp[0]
        # which response channel varies along the width (x) and which along the height (y)
        xch = 0 if float(resp[0, 0].std()) > float(resp[0, :, 0].std()) else 1
        sx = resp[xch, 0, :]  # S(x), x = column
        sy = resp[1 - xch][:, 0]  # S(y), y = row
        assert bool((sx[1:] > sx[:-1]).all()) and bool((sy[1:] > sy[:-1]).all()), "response not monotone"
        template = wflw_template()
        xs = sorted({x for x, _ in template})
        ys = sorted({y for _, y in template})
        channels = 2 + len(xs) + len(ys)
        assert channels <= 256, channels
        head = model._modules[f"conv_last{last}"]
        bn_scale = 1.0 / math.sqrt(1.0 + model._modules[f"bn_end{last}"].eps)
        # conv_last channels: 0: S(x) - S(0) + 1 (> 0: linear after ReLU), 1: same for y,
        # then ReLU(S(x) - S(x_v)) for each template x value, ReLU(S(y) - S(y_v)) for each y value
        head.weight[0, xch] = 1.0
        head.bias[0] = 1.0 - float(sx[0])
        head.weight[1, 1 - xch] = 1.0
        head.bias[1] = 1.0 - float(sy[0])
        col = {}
        for i, v in enumerate(xs):
            head.weight[2 + i, xch] = 1.0
            head.bias[2 + i] = -float(sx[v])
            col[("x", v)] = 2 + i
        for i, v in enumerate(ys):
            head.weight[2 + len(xs) + i, 1 - xch] = 1.0
            head.bias[2 + len(xs) + i] = -float(sy[v])
            col[("y", v)] = 2 + len(xs) + i
        # heat map k = -|S(x) - S(x_k)| - |S(y) - S(y_k)| = -(2 ReLU(S - S_k) - (S - S_k)) per axis
        out = model._modules[f"l{last}"]
        for k, (x, y) in enumerate(template):
            out.weight[k, col[("x", x)]] = -2.0 / bn_scale
            out.weight[k, 0] = 1.0 / bn_scale
            out.weight[k, col[("y", y)]] = -2.0 / bn_scale
            out.weight[k, 1] = 1.0 / bn_scale
            out.bias[k] = (float(sx[0]) - 1.0 - float(sx[x])) + (float(sy[0]) - 1.0 - float(sy[y]))
        heat, _ = model(torch.zeros(1, 3, 256, 256))
        got = heat[-1][0, :-1].reshape(len(template), -1).argmax(1)
        want = torch.tensor([y * 64 + x for x, y in template])
        assert bool((got == want).all()), "crafted FAN does not reproduce its template"


def main() -> None:
    a = enter_checkout(chdir=True)
    import safetensors.torch
    import torch
    import yaml
    from src.audio2exp_models.networks import SimpleWrapperV2
    from src.audio2pose_models.audio2pose import Audio2Pose
    from src.face3d.models import networks
    from src.face3d.util.my_awing_arch import FAN
    from src.facerender.modules.generator import OcclusionAwareSPADEGenerator
    from src.facerender.modules.keypoint_detector import HEEstimator, KPDetector
    from src.facerender.modules.mapping import MappingNet
    from yacs.config import CfgNode

    torch.manual_seed(a.seed)
    note = {"upstream": "sadtalker", "seed": a.seed, "note": "tests only, never results: random init, except the "
            "face detector and landmark nets, crafted to return a fixed centred box and a fixed landmark template"}
    with open("src/config/auido2pose.yaml") as f:
        cfg_pose = CfgNode.load_cfg(f)
    with open("src/config/facerender.yaml") as f:
        render = yaml.safe_load(f)["model_params"]
    nets = {
        "face_3drecon": networks.define_net_recon(net_recon="resnet50", use_last_fc=False, init_path=""),
        "audio2pose": Audio2Pose(cfg_pose, None, device="cpu"),
        "audio2exp": SimpleWrapperV2(),
        "generator": OcclusionAwareSPADEGenerator(**render["generator_params"], **render["common_params"]),
        "kp_extractor": KPDetector(**render["kp_detector_params"], **render["common_params"]),
        "he_estimator": HEEstimator(**render["he_estimator_params"], **render["common_params"]),
    }
    tensors = {f"{name}.{k}": v.detach().clone().contiguous() for name, net in nets.items()
               for k, v in net.state_dict().items()}
    os.makedirs("checkpoints", exist_ok=True)
    safetensors.torch.save_file(tensors, "checkpoints/SadTalker_V0.0.2_256.safetensors",
                                metadata={MARKER: json.dumps(note)})
    for name, cfg in (("mapping_00229-model.pth.tar", "facerender.yaml"),
                      ("mapping_00109-model.pth.tar", "facerender_still.yaml")):
        with open(f"src/config/{cfg}") as f:
            params = yaml.safe_load(f)["model_params"]["mapping_params"]
        torch.save({"mapping": MappingNet(**params).state_dict(), "epoch": 0, MARKER: note}, f"checkpoints/{name}")

    from facexlib.detection.retinaface import RetinaFace

    os.makedirs("gfpgan/weights", exist_ok=True)
    det = RetinaFace(network_name="resnet50", half=False, device="cpu")
    craft_retinaface(det, torch)
    state = det.state_dict()
    state._metadata[MARKER] = note  # the loader is strict: the marker rides in the metadata
    torch.save(state, "gfpgan/weights/detection_Resnet50_Final.pth")
    fan = FAN(num_modules=4, num_landmarks=98, device="cpu")
    craft_fan(fan, torch)
    torch.save({"state_dict": fan.state_dict(), MARKER: note}, "gfpgan/weights/alignment_WFLW_4HG.pth")
    print(f"placeholders: SadTalker_V0.0.2_256.safetensors ({sum(t.numel() for t in tensors.values())} values), "
          f"mapping_00229/00109, crafted detection_Resnet50_Final.pth and alignment_WFLW_4HG.pth (seed {a.seed})")


if __name__ == "__main__":
    main()
