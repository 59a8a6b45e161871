"""Placeholder checkpoints for MakeItTalk (TESTS ONLY): every file ``main_end2end.py`` loads.

* ``examples/ckpt/ckpt_autovc.pth``: ``{"model": Generator(16, 256, 512, 16).state_dict()}``
  (``src/autovc/retrain_version/model_vc_37_1.py``, as AutoVC_mel_Convertor builds it);
* ``examples/ckpt/ckpt_speaker_branch.pth``: ``{"G": Audio2landmark_pos(...).state_dict()}`` and
  ``examples/ckpt/ckpt_content_branch.pth``: ``{"model_g_face_id": Audio2landmark_content(...)
  .state_dict()}`` (``src/models/model_audio2landmark.py``, the arguments of
  ``src/approaches/train_audio2landmark.py``);
* ``examples/ckpt/ckpt_116_i2i_comb.pth``: ``{"G": ResUnetGenerator(input_nc=6, output_nc=3,
  num_downs=6, use_dropout=False).state_dict()}`` (``src/approaches/train_image_translation.py``);
* ``examples/dump/emb.pickle``: a dict of speaker embeddings read at start-up; only its keys
  are used unless ``--reuse_train_emb_list`` is given (the adapter never gives it): one entry,
  the marker, holding a random 256-d vector;
* face_alignment 1.2.0's weights in ``.torch_home/hub/checkpoints`` (the adapter runs with
  ``TORCH_HOME`` there): ``3DFAN4-7835d9f11d.pth.tar`` (``FAN(4)`` state dict) and
  ``depth-2a464da4ea.pth.tar`` (``{"state_dict": ResNetDepth()}``) random-init;
  ``s3fd-619a316812.pth`` (``s3fd`` state dict) CRAFTED, not trained: with random weights S3FD
  finds no face and main_end2end.py stops ("Cannot detect face landmarks. Exit."). Every
  layer is zero except: ``conv6_2`` and ``conv7_1`` output a constant 1; ``conv7_2`` (3x3,
  stride 2, zero padding 1) averages it, so on the 6x6 -> 3x3 map of a 256x256 image the corner
  cell (0, 0) is the only one with 4 valid inputs (edges 6, inside 9); the stride-128 class
  head scores only that cell as a face (softmax > 0.99, the others < 0.01) and every other
  level's head says background; its box regression is a constant that moves the 512-px
  anchor at (64, 64) to a 160-px box at the centre of a 256x256 image (48..208). Result: one
  centred box, whatever the picture.
  The landmarks FAN then returns are random-init (arbitrary points inside that box).

Every file carries the marker (top-level key; the strict face_alignment loaders get it in
the state dict's ``_metadata``; the pickle holds it as a key).

    UPSTREAM_PYTHON placeholder_makeittalk.py CHECKOUT [--seed N]
"""

from __future__ import annotations

import math
import os
import pickle
import sys

from placeholder_cli import enter_checkout

MARKER = "__ttsf_bench_placeholder__"


def craft_s3fd(net, torch) -> None:
    """Deterministic weights: one 160-px box at the centre of a 256x256 image (see the module docstring)."""
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.conv6_2.bias.fill_(1.0)
        net.conv7_1.bias.fill_(1.0)
        w = net.conv7_2.weight
        w.fill_(1.0 / (w.shape[1] * 9))  # f7_2 = (valid taps) / 9: 4/9 at the corner cell (0, 0) only
        heads = (net.conv3_3_norm_mbox_conf, net.conv4_3_norm_mbox_conf, net.conv5_3_norm_mbox_conf,
                 net.fc7_mbox_conf, net.conv6_2_mbox_conf)
        for head in heads:  # background everywhere (conv3_3's head: 3 background channels max-out, then face)
            head.bias[:-1] = 10.0
            head.bias[-1] = -10.0
        conf = net.conv7_2_mbox_conf  # face logit - background logit = -90 (v - 5/9): +10 at v = 4/9, <= -10 above
        conf.weight[1, :, 1, 1] = -90.0 / conf.weight.shape[1]
        conf.bias[1] = 50.0
        loc = net.conv7_2_mbox_loc.bias  # decode: cx = 64 + dx * 0.1 * 512, w = 512 exp(dw * 0.2)
        loc.copy_(torch.tensor([1.25, 1.25, math.log(160 / 512) / 0.2, math.log(160 / 512) / 0.2]))
        net.eval()
        out = net(torch.zeros(1, 3, 256, 256))
        face = torch.softmax(out[10], 1)[0, 1]
        assert float(face[0, 0]) > 0.99 and float(face.flatten()[1:].max()) < 0.01, face
        for i in range(0, 10, 2):
            assert float(torch.softmax(out[i], 1)[0, 1].max()) < 0.01


def main() -> None:
    a = enter_checkout(chdir=True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import compat

    compat.patch_numpy()
    compat.patch_torch_cpu()  # model_audio2landmark.py calls .cuda() in __init__
    import numpy as np
    import torch
    from face_alignment.detection.sfd.net_s3fd import s3fd
    from face_alignment.models import FAN, ResNetDepth
    from src.autovc.retrain_version.model_vc_37_1 import Generator
    from src.models.model_audio2landmark import Audio2landmark_content, Audio2landmark_pos
    from src.models.model_image_translation import ResUnetGenerator

    torch.manual_seed(a.seed)
    note = {"upstream": "makeittalk", "seed": a.seed, "note": "tests only, never results: random init, except the "
            "S3FD face detector, crafted to return one centred box"}
    os.makedirs("examples/ckpt", exist_ok=True)
    os.makedirs("examples/dump", exist_ok=True)
    torch.save({"model": Generator(16, 256, 512, 16).state_dict(), MARKER: note}, "examples/ckpt/ckpt_autovc.pth")
    speaker = Audio2landmark_pos(drop_out=0.5, spk_emb_enc_size=128, c_enc_hidden_size=256, transformer_d_model=32,
                                 N=2, heads=2, z_size=128, audio_dim=256)
    torch.save({"G": speaker.state_dict(), MARKER: note}, "examples/ckpt/ckpt_speaker_branch.pth")
    content = Audio2landmark_content(num_window_frames=18, in_size=80, use_prior_net=True, bidirectional=False,
                                     drop_out=0.5)
    torch.save({"model_g_face_id": content.state_dict(), MARKER: note}, "examples/ckpt/ckpt_content_branch.pth")
    i2i = ResUnetGenerator(input_nc=6, output_nc=3, num_downs=6, use_dropout=False)
    torch.save({"G": i2i.state_dict(), MARKER: note}, "examples/ckpt/ckpt_116_i2i_comb.pth")
    rng = np.random.default_rng(a.seed)
    with open("examples/dump/emb.pickle", "wb") as f:
        pickle.dump({MARKER: rng.standard_normal(256).astype(np.float32)}, f)

    hub = os.path.join(".torch_home", "hub", "checkpoints")
    os.makedirs(hub, exist_ok=True)
    det = s3fd()
    craft_s3fd(det, torch)
    for name, state in (("s3fd-619a316812.pth", det.state_dict()), ("3DFAN4-7835d9f11d.pth.tar", FAN(4).state_dict())):
        state._metadata[MARKER] = note  # strict loaders: the marker rides in the metadata
        torch.save(state, os.path.join(hub, name))
    torch.save({"state_dict": ResNetDepth().state_dict(), MARKER: note}, os.path.join(hub, "depth-2a464da4ea.pth.tar"))
    print(f"placeholders: 4 MakeItTalk checkpoints, emb.pickle, face_alignment 3DFAN4/depth (random) and a crafted "
          f"s3fd (seed {a.seed})")


if __name__ == "__main__":
    main()
