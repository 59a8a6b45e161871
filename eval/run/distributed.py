"""Distributed scoring under ``torchrun``: strided item split, gather on rank 0 (gloo).

Rank ``r`` of ``w`` takes items ``r, r + w, r + 2w, …`` of the sorted manifest: every
item is scored exactly once and no rank pads with duplicates (sharded metric states
therefore merge into exactly the single-process state).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's items: a strided slice (no padding, no duplicates)."""
        return list(items[self.rank :: self.size])

    def gather(self, obj: Any) -> list[Any]:
        """Objects of every rank, in rank order, on rank 0 (``[]`` elsewhere)."""
        if not self.distributed:
            return [obj]
        import torch.distributed as dist

        out = [None] * self.size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return list(out) if self.is_main else []

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()


def init_world() -> World:
    """Join the ``torchrun`` process group (gloo) when ``WORLD_SIZE`` > 1."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo")
    return World(dist.get_rank(), dist.get_world_size())


def shutdown(world: World) -> None:
    if world.distributed:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
