"""Production monitoring: served rows and fed-back outcomes over a sliding window, judged against the
model version's training data and evaluation with the pipeline's own validation code and thresholds.

Modules: ``served`` (request log), ``feedback`` (true outcomes), ``window``, ``reference`` (training
statistics and evaluation metrics from the lineage store), ``data_checks`` (drift and skew),
``performance`` (live metrics), ``monitor`` (the verdict), ``report`` (Markdown and HTML),
``prometheus`` (metrics). Never imports kfp. See README.md.
"""
