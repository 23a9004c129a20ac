"""Articles in: reading .txt/.jsonl/.csv sources (sources), stripping page furniture (furniture), normalising,
content-hash ids and validation (load), and the near-duplicate definition ingest and the split share (neardup)."""
