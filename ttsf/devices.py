"""One process per GPU: rank ``LOCAL_RANK`` of a ``torchrun`` job works on ``cuda:LOCAL_RANK``.

Used by training (``ttsf.train``) and by distributed scoring (``eval.run``), so both map
ranks to devices the same way. ``torch.cuda.set_device`` is called as well: NCCL
collectives and any ``"cuda"`` without an index then go to this rank's GPU, not GPU 0.
"""

from __future__ import annotations

import os

import torch


def local_rank() -> int:
    """``$LOCAL_RANK`` (0 outside torchrun)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def local_device(name: str) -> torch.device:
    """``"cuda"`` -> ``cuda:LOCAL_RANK`` (made the current CUDA device); anything else as given.

    Raises ``RuntimeError`` when ``LOCAL_RANK`` is not below the number of visible GPUs
    (e.g. ``--nproc_per_node`` larger than the GPU count)."""
    if name != "cuda":
        return torch.device(name)
    count = torch.cuda.device_count()
    rank = local_rank()
    if rank >= count:
        raise RuntimeError(f"LOCAL_RANK {rank} needs GPU {rank}, but {count} CUDA device(s) are visible "
                           "(check --nproc_per_node and CUDA_VISIBLE_DEVICES)")
    device = torch.device("cuda", rank)
    torch.cuda.set_device(device)
    return device
