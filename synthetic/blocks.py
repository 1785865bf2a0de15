"""How a generation is cut: blocks of persons (the unit of randomness) and chunks (of memory).

Kept apart from the generator so that the command line can show them without importing it.
"""

# Persons per random stream. Fixed: changing it changes every generated store. Big enough that
# the per-block overhead (216 monthly steps, a few dozen frame operations) stays small.
BLOCK_PERSONS = 5_000
# Persons held in memory at once by default (about 3 GB at peak with the sources to 2020, see
# benchmarks/README.md); a multiple of the block.
DEFAULT_CHUNK_PERSONS = 50_000
