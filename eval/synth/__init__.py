"""The bundled synthetic audiovisual corpus (real faces, real voices, known pose and sync).

``build(out_dir, identities=K, clips=N, seconds=S, size=PX, seed=SEED)`` writes a
corpus; ``default_corpus("default" | "tiny")`` returns a cached one;
``shift_corpus(corpus, frames, out_dir)`` writes a desynchronised copy.
CLI: ``python -m eval.synth build|shift --help``.
"""

from eval.synth.cache import default_corpus
from eval.synth.config import GENERATOR_VERSION, PRESETS, SynthConfig, SynthError
from eval.synth.corpus import build
from eval.synth.shift import shift_corpus

__all__ = ["GENERATOR_VERSION", "PRESETS", "SynthConfig", "SynthError", "build", "default_corpus", "shift_corpus"]
