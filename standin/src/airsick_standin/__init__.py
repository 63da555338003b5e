"""The offline world airsick runs in when there is no network, and for the demo.

- ``server``: a local HTTP stand-in that answers like Open-Meteo's air-quality, archive and
  forecast APIs (``../shared/open-meteo-api.md``, ``docs/open-meteo-weather-api.md``);
- ``simulator``: the air and weather it answers with, reproducible from ``named_seed``;
- ``replay``: answers from a real recorded series instead;
- ``calibration``: how the simulator compares with the recordings;
- ``persona``: the demo person whose diary follows the simulated air by a known law.

The ingestion code is the same whichever answers; this member ships in no production image.
"""
