"""Random-init placeholders for Face-TTS (TESTS ONLY): ``ckpts/facetts_lrs3.pt`` and the
HiFi-GAN-16k vocoder ``inference.py`` fetches through ``torch.hub`` (bshall/hifigan).

* ``ckpts/facetts_lrs3.pt``: ``{"state_dict": FaceTTS(config).state_dict(), MARKER: {...}}``,
  the model built from the upstream's own ``model.face_tts.FaceTTS`` with the defaults of
  its ``config.py`` (the sacred config ``inference.py`` uses).
* ``.torch_home/hub/checkpoints/hifigan-67926ec6.pt``: ``HifiganGenerator().state_dict()``
  from bshall/hifigan's own class (laid out by ``setup`` in ``.torch_home/hub/
  bshall_hifigan_main``). The hub loads it strictly, so the marker goes in the state
  dict's ``_metadata`` (kept by ``torch.save``, ignored by ``load_state_dict``).

    UPSTREAM_PYTHON placeholder_facetts.py CHECKOUT [--seed N]
"""

from __future__ import annotations

import os
import sys

from placeholder_cli import enter_checkout

MARKER = "__ttsf_bench_placeholder__"


def main() -> None:
    a = enter_checkout(chdir=True)
    checkout = a.checkout
    import torch

    torch.manual_seed(a.seed)
    from config import ex
    from model.face_tts import FaceTTS

    config = ex.configurations[0]()  # the defaults of config.py, as inference.py sees them
    model = FaceTTS(config)
    note = {"upstream": "facetts", "seed": a.seed, "note": "random init, tests only, never results"}
    os.makedirs("ckpts", exist_ok=True)
    torch.save({"state_dict": model.state_dict(), MARKER: note}, "ckpts/facetts_lrs3.pt")
    hub = os.path.join(checkout, ".torch_home", "hub")
    sys.path.insert(0, os.path.join(hub, "bshall_hifigan_main"))
    from hifigan.generator import HifiganGenerator

    state = HifiganGenerator().state_dict()
    state._metadata[MARKER] = note
    os.makedirs(os.path.join(hub, "checkpoints"), exist_ok=True)
    torch.save(state, os.path.join(hub, "checkpoints", "hifigan-67926ec6.pt"))
    print(f"placeholders: ckpts/facetts_lrs3.pt ({sum(t.numel() for t in model.state_dict().values())} values), "
          f"hifigan-67926ec6.pt (seed {a.seed})")


if __name__ == "__main__":
    main()
