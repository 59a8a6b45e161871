"""Speed of batched MAS (ttsf.tts.alignment.mas) vs the plain-Python DP reference.

    python -m bench.mas [--batch 8 --text 80 --mel 400 --repeat 3]

Both give identical paths (checked here too); prints times and the speedup as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def main(argv=None) -> int:
    from ttsf.tts.alignment import mas, mas_reference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--text", type=int, default=80, help="tokens per item (with blanks)")
    ap.add_argument("--mel", type=int, default=400, help="mel frames per item (4 s)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    lp = rng.normal(size=(args.batch, args.text, args.mel)).astype(np.float32)
    tl = np.full(args.batch, args.text)
    ml = np.full(args.batch, args.mel)
    tl[1::2] = args.text * 3 // 4  # half the batch padded
    ml[1::2] = args.mel * 3 // 4
    lpt, tlt, mlt = torch.from_numpy(lp), torch.from_numpy(tl), torch.from_numpy(ml)
    times = {}
    for backend in ("numpy", "numba"):
        mas(lpt[:1, :4, :8], tlt[:1].clamp(max=4), mlt[:1].clamp(max=8), backend=backend)  # compile / warm up
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            path = mas(lpt, tlt, mlt, backend=backend)
            runs.append(time.perf_counter() - t)
        times[backend] = (min(runs), path)
    t = time.perf_counter()
    ref = [mas_reference(lp[k, : tl[k], : ml[k]], int(tl[k]), int(ml[k])) for k in range(args.batch)]
    slow = time.perf_counter() - t
    same = all(np.array_equal(p[k, : tl[k], : ml[k]].numpy(), ref[k]) for _, p in times.values()
               for k in range(args.batch))
    res = {"batch": args.batch, "text": args.text, "mel": args.mel, "threads": args.threads, "reference_s": slow}
    for backend, (sec, _) in times.items():
        res[f"{backend}_s"] = sec
        res[f"{backend}_speedup"] = slow / sec
    res["identical"] = same
    print(json.dumps(res))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
