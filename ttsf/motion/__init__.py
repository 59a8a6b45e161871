"""TTSF motion: audio mapper (f_lip) and the variational head-motion sampler."""
