"""Source handling: discovery, prefilter, safe reading, and (elsewhere) LibCST parsing."""
