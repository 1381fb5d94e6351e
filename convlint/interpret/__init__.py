"""The shape engine: an abstract interpreter for the part of Python that model code uses.

- :mod:`.values`, :mod:`.lattice` — abstract values and how branches join;
- :mod:`.tensor`, :mod:`.symbolic` — tensors with per-dimension sizes, symbolic sizes;
- :mod:`.scope`, :mod:`.interpreter` with :mod:`.statements`, :mod:`.expressions`, :mod:`.calls` — evaluation;
- :mod:`.builtins` — Python builtins and the standard library it understands;
- :mod:`.events` — what a run records for the rules;
- :mod:`.declare`, :mod:`.entries` — declared inputs and how an entry is run.

See docs/architecture.md.
"""
