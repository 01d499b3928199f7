"""What a built store says and on what evidence: the per-version catalogue of entities and
statuses, the evidence views, explained paths, the plan's progress and the decision framework.

Imports `kg.pipeline` and `kg.query`; never the outputs above it (paper, pages, lab).
"""
