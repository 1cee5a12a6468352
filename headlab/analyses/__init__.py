"""The analysis engines: from a model and data to tested per-head results.

============  ================================================================
module        job
============  ================================================================
text_roles    ``m.roles``: natural-text roles scored per sample, tested -> Report
probe_roles   ``m.detect``: probe roles scored per probe, tested -> Report
probe_passes  the forward passes that score probes (repeated tokens, needles)
ablate        ``m.ablate`` / ``confirm``: causal checks with paired tests
head_hooks    each head's output at the attention output projection
============  ================================================================
"""
