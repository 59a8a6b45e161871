"""Multi-process training: rank -> device mapping, 2 gloo ranks == 1 process, accumulation, AMP.

The 2-rank run uses ``torchrun --standalone --nproc_per_node 2`` on CPU (gloo) with
``torch.cuda.device_count`` mocked to 2 GPUs: each rank must pick ``cuda:LOCAL_RANK`` for
training (:func:`ttsf.devices.local_device`) and for scoring (``eval.run``), and the face
stage with 2 ranks x batch 2 must produce the gradients (Adam's first moment after one step
is ``(1 - beta1) * grad``) and checkpoint of 1 process x batch 4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "configs" / "face" / "synth_ci.yaml"

WORKER = r'''
import json, os, sys
import torch
torch.set_num_threads(1)
calls = []
torch.cuda.device_count = lambda: 2                      # a mocked 2-GPU node
torch.cuda.set_device = lambda d: calls.append(str(d))
from ttsf.devices import local_device
from eval.run.cli import bind_rank_device
train_device = str(local_device("cuda"))
score_device = str(bind_rank_device("cuda"))
from ttsf.train.av_common import read_config
from ttsf.train.face import train
overrides = json.loads(sys.argv[1])
train(read_config(overrides.pop("config"), overrides), resume=False)
rank = torch.distributed.get_rank()
torch.distributed.destroy_process_group()
with open(os.path.join(sys.argv[2], f"rank{rank}.json"), "w") as f:
    json.dump({"rank": rank, "local_rank": os.environ["LOCAL_RANK"], "train_device": train_device,
               "score_device": score_device, "set_device": calls}, f)
'''


def _overrides(tiny_corpus, out: Path, **extra) -> dict:
    return {"data.root": str(tiny_corpus), "train.out_dir": str(out), "train.steps": 1, "train.sample_every": 0,
            "train.threads": 1, "train.seed": 3, **extra}


def _state(path: Path) -> tuple[dict, dict]:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    return blob["model"], {k: v["exp_avg"] for k, v in blob["opt_g"]["state"].items()}


def _assert_same(a: Path, b: Path, atol=1e-6):
    (wa, ga), (wb, gb) = _state(a), _state(b)
    assert wa.keys() == wb.keys() and ga.keys() == gb.keys() and len(ga) > 10
    for k in ga:
        torch.testing.assert_close(ga[k], gb[k], rtol=1e-4, atol=atol)  # = 0.5 * gradient
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=atol)


def test_local_device_maps_ranks(monkeypatch):
    from ttsf import devices

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    calls = []
    monkeypatch.setattr(torch.cuda, "set_device", calls.append)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert devices.local_device("cuda") == torch.device("cuda", 1) and calls == [torch.device("cuda", 1)]
    assert devices.local_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LOCAL_RANK", "2")
    with pytest.raises(RuntimeError, match="LOCAL_RANK 2 needs GPU 2, but 2 CUDA device"):
        devices.local_device("cuda")


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.face import train

    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    cfg = {"config": str(CONFIG), **_overrides(tiny_corpus, tmp_path / "ddp", **{"train.batch_size": 2})}
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(worker), json.dumps(cfg), str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for r, info in enumerate(ranks):
        assert info["local_rank"] == str(r)
        assert info["train_device"] == info["score_device"] == f"cuda:{r}"
        assert info["set_device"] == [f"cuda:{r}", f"cuda:{r}"]
    torch.set_num_threads(1)
    train(read_config(CONFIG, _overrides(tiny_corpus, tmp_path / "one", **{"train.batch_size": 4})), resume=False)
    _assert_same(tmp_path / "ddp" / "last.pt", tmp_path / "one" / "last.pt")


def test_gradient_accumulation_equals_the_larger_batch(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.face import train

    torch.set_num_threads(1)
    train(read_config(CONFIG, _overrides(tiny_corpus, tmp_path / "acc", **{"train.batch_size": 2,
                                                                           "train.accum_steps": 2})), resume=False)
    train(read_config(CONFIG, _overrides(tiny_corpus, tmp_path / "big", **{"train.batch_size": 4})), resume=False)
    _assert_same(tmp_path / "acc" / "last.pt", tmp_path / "big" / "last.pt")
    train(read_config(CONFIG, _overrides(tiny_corpus, tmp_path / "small", **{"train.batch_size": 2})), resume=False)
    small, big = _state(tmp_path / "small" / "last.pt")[1], _state(tmp_path / "big" / "last.pt")[1]
    assert any(not torch.allclose(small[k], big[k]) for k in big)  # half the batch: another gradient


def test_bf16_autocast_on_cpu_is_deterministic(tiny_corpus, tmp_path):
    from ttsf.train.av_common import amp_dtype, read_config
    from ttsf.train.face import train

    assert amp_dtype(torch.device("cpu"), True) is None and amp_dtype(torch.device("cuda"), True) is torch.bfloat16
    assert amp_dtype(torch.device("cpu"), "bf16") is torch.bfloat16 and amp_dtype(torch.device("cpu"), False) is None
    torch.set_num_threads(1)
    runs = {}
    for name, amp in (("a", "bf16"), ("b", "bf16"), ("fp32", False)):
        res = train(read_config(CONFIG, _overrides(tiny_corpus, tmp_path / name, **{"train.batch_size": 2,
                                                                                   "train.amp": amp})), resume=False)
        runs[name] = (res["history"][-1]["loss"], _state(tmp_path / name / "last.pt"))
    (loss_a, (wa, _)), (loss_b, (wb, _)), (loss_f, (wf, _)) = runs["a"], runs["b"], runs["fp32"]
    assert loss_a == loss_b and all(torch.equal(wa[k], wb[k]) for k in wa)  # deterministic
    assert all(wa[k].shape == wf[k].shape and wa[k].dtype == wf[k].dtype == torch.float32
               for k in wa if wa[k].is_floating_point())  # fp32 master weights, same shapes
    assert loss_a != loss_f and abs(loss_a - loss_f) < 0.05 * abs(loss_f)  # bf16 really ran, and close
