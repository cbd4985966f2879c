"""Codec language models: the transformer core with its KV cache (``transformer``), the AR and
Gaussian next-distribution model (``codec_lm``), PALLE's PAR model (``par``), the NAR model for
extra codebooks (``nar``), the CTC aligner (``aligner``, ``align``), their generators
(``generate``, ``par_generate``), every random draw (``sampling``), and the family table that
turns them into synthesis pipelines (``families``)."""
