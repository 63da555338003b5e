"""Open-Meteo air quality: the HTTP client and the dlt source."""
