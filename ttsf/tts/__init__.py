"""TTSF's speech branch: text front-end, Matcha-style OT-CFM TTS, training data, inference.

Entry points: :class:`ttsf.tts.model.TTS`, :class:`ttsf.tts.config.TTSConfig`,
:func:`ttsf.tts.text.text_to_tokens`, :class:`ttsf.tts.synthesize.Synthesizer`
(see docs/tts.md). Nothing is imported here: import the submodule you need.
"""
