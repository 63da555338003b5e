"""Ingestion: dlt sources that land Open-Meteo air quality and the sickness diary as Parquet.

Subpackages:
    open_meteo: the HTTP client and the dlt source for the air-quality API.
    diary: diary events, their validation, the dlt source and the demo persona.
    standin: an offline stand-in of the Open-Meteo API (simulator or recorded replay).
"""
