{#- The hourly variables, for the models that loop over them. They are named once, in
    airsick_core.names, and reach dbt as the `airsick` var that `airsick transform` passes. -#}

{% macro pollutants() -%}
    {#- The pollutants and the indices: every air variable but pollen. -#}
    {{ return(var("airsick")["pollutants"] + var("airsick")["indices"]) }}
{%- endmacro %}

{% macro pollens() -%}
    {{ return(var("airsick")["pollens"]) }}
{%- endmacro %}

{#- WHO 2021 air-quality guideline levels (μg/m³) used to count hours above them. -#}
{% macro who_guidelines() -%}
    {{ return({"pm2_5": 15, "pm10": 45, "nitrogen_dioxide": 25, "ozone": 100,
               "sulphur_dioxide": 40, "carbon_monoxide": 4000}) }}
{%- endmacro %}

{#- The daily measures that become features, each with its lags and rolling means. -#}
{% macro daily_measures() -%}
    {{ return(["pm2_5_mean", "pm10_mean", "nitrogen_dioxide_mean", "ozone_max",
               "sulphur_dioxide_mean", "carbon_monoxide_mean", "dust_mean", "uv_index_max",
               "european_aqi_max", "us_aqi_max", "pollen_total"]) }}
{%- endmacro %}

{#- The local day that is "today" for the person, set by `airsick transform`. An environment
    variable, not a var: any change of a var makes dbt parse the whole project again, and
    today changes every day; an env var re-parses only what reads it. -#}
{% macro today() -%}
    {%- set today = env_var("AIRSICK_TODAY", "") -%}
    {%- if today -%} date '{{ today }}' {%- else -%} current_date {%- endif -%}
{%- endmacro %}

{#- Plausible ranges of each hourly variable (open-meteo-api.md gives the typical ones; these
    are generous: real Arabian dust storms reach a few thousand μg/m³ of PM10). A value
    outside its range is kept in raw, quarantined in staging (null there), and counted. -#}
{% macro plausible_ranges() -%}
    {{ return({
        "pm10": [0, 10000], "pm2_5": [0, 5000], "carbon_monoxide": [0, 50000],
        "nitrogen_dioxide": [0, 2000], "sulphur_dioxide": [0, 2000], "ozone": [0, 1000],
        "dust": [0, 20000], "uv_index": [0, 20], "european_aqi": [0, 500], "us_aqi": [0, 500],
        "alder_pollen": [0, 50000], "birch_pollen": [0, 50000], "grass_pollen": [0, 50000],
        "mugwort_pollen": [0, 50000], "olive_pollen": [0, 50000], "ragweed_pollen": [0, 50000],
        "temperature_2m": [-90, 60], "relative_humidity_2m": [0, 100], "precipitation": [0, 500],
        "wind_speed_10m": [0, 500],
    }) }}
{%- endmacro %}

{#- The expression `value` if it lies in the variable's plausible range, else null. -#}
{% macro plausible(variable, value) -%}
    {%- set low, high = plausible_ranges()[variable] -%}
    case when {{ value }} between {{ low }} and {{ high }} then {{ value }} end
{%- endmacro %}

{#- The hourly weather variables (docs/open-meteo-weather-api.md). -#}
{% macro weather_variables() -%}
    {{ return(var("airsick")["weather"]) }}
{%- endmacro %}
