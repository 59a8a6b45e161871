"""Registry of evaluated systems (``gt``, ``still``, ``dir:PATH``, TTSF, baselines).

Adding a system is one line here: ``REGISTRY.register("name", "package.module:Class")``.
"""

from __future__ import annotations

from typing import Any

from eval.registry import Registry
from eval.systems.base import Context, GenerationError, Output, System, SystemNotReady

REGISTRY: Registry = Registry("system")
REGISTRY.register("gt", "eval.systems.gt:GroundTruth")
REGISTRY.register("still", "eval.systems.still:Still")
REGISTRY.register("still-tts", "eval.systems.still:StillTTS")
# External audio-driven baselines (upstream repos run as subprocesses; see baselines/).
REGISTRY.register("sadtalker", "baselines.sadtalker:SadTalker")
REGISTRY.register("sadtalker-tts", "baselines.sadtalker:SadTalkerTTS")
REGISTRY.register("makeittalk", "baselines.makeittalk:MakeItTalk")
REGISTRY.register("makeittalk-tts", "baselines.makeittalk:MakeItTalkTTS")
REGISTRY.register("audio2head", "baselines.audio2head:Audio2Head")
REGISTRY.register("audio2head-tts", "baselines.audio2head:Audio2HeadTTS")
REGISTRY.register("facetts", "baselines.facetts:FaceTTS")
# TTSF and its ablations (bound to a joint checkpoint; see eval/systems/ttsf_system.py).
REGISTRY.register("ttsf", "eval.systems.ttsf_system:TTSFSystem")
REGISTRY.register("ttsf-tts", "eval.systems.ttsf_system:TTSFSpeech")
REGISTRY.register("ttsf-tts-wmotion", "eval.systems.ttsf_system:TTSFSpeechWithMotion")
REGISTRY.register("ttsf-mapper-et", "eval.systems.ttsf_system:TTSFMapperEt")
REGISTRY.register("ttsf-mapper-et-ft", "eval.systems.ttsf_system:TTSFMapperEtFt")


def create(system: str, **options: Any) -> System:
    """Instantiate a system by registry name, or ``dir:PATH`` for outputs on disk.

    ``dir:PATH`` accepts ``name=`` (the row name of those outputs).
    """
    if system.startswith("dir:"):
        from eval.systems.directory import Directory

        return Directory(system[4:], **options)
    cls = REGISTRY.get(system)
    instance = cls(**options)
    if not instance.name:
        instance.name = system
    return instance


def names() -> list[str]:
    return REGISTRY.names()


__all__ = ["REGISTRY", "Context", "GenerationError", "Output", "System", "SystemNotReady", "create", "names"]
