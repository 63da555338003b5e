"""Serving: the champion behind `mlflow models serve`, a front that follows promotions,
the typed client, and batch scoring of tomorrow.

Which version is champion is the registry store's (``airsick_stores.registry``). Modules:
``backend`` (one `mlflow models serve`
process), ``validate`` (bad requests get a 4xx that says why), ``front`` (the HTTP server
users call), ``client`` (the typed client), ``batch`` (scoring the forecast days).
"""
