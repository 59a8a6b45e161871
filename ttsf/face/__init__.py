"""TTSF face branch: LIA-style visual encoder, motion extractor, warping generator, discriminator."""
