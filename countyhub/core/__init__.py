"""The bottom layer: the department/source/stream model, shared vocabularies, settings and small helpers."""
