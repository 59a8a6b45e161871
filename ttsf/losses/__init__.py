"""TTSF training losses and their paper weights."""
