"""Signal indexes: pure in-memory data structures with their own persisted form (no database).

``pdq``: exact Hamming-radius search over PDQ hashes (multi-index hashing, incremental).
``exact``: exact-value lookup for md5 / sha256 / url / domain strings.
"""
