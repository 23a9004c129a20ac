"""From pulled annotations to gold: which annotations count (screening), the lead's decision log (decisions,
decide), adjudication of spans (adjudicate) and relations (relations), provenance of each gold span, the
train/dev split, and the hand-made seed gold. Stdlib only; the export package writes what this builds."""
