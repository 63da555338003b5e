"""Training: honest walk-forward backtests, candidates against baselines, MLflow and the gate.

One module per step: ``data`` (the dataset and its lineage), ``features`` (what each model
sees), ``models`` (baselines and candidates), ``evaluate`` (folds and scores), ``explain``
(reasons), ``plots``, ``promote`` (the gate's rule), ``track`` and ``pyfunc`` (the only
modules that import MLflow), and ``train`` (the whole step, start to end).
"""
