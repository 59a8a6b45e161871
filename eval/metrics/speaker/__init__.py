"""Speaker-embedding backends for C-SIM: ``xvector`` (paper) and ``resemblyzer`` (offline)."""
