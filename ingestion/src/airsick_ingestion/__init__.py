"""Ingestion: dlt sources that land Open-Meteo air quality and weather and the sickness diary
as Parquet in the lake's raw zone.

Subpackages:
    open_meteo: the HTTP client and the dlt sources for the air-quality and weather APIs.
    diary: diary events, their validation and the dlt source.

The offline stand-in of Open-Meteo and the demo persona are the ``airsick_standin`` member.
"""
