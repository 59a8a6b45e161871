"""Pure metric math (no models, no I/O), one small module per quantity."""
