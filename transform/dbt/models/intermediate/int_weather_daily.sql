{#- Weather per place and local day (in the place's own timezone), the measures the
    studies of symptom diaries name (AirRater: maximum temperature, humidity, rainfall). -#}

with weather as (

    select * from {{ ref('stg_open_meteo__weather') }}

),

hourly as (

    {{ with_local_date('weather') }}

),

daily as (

    select
        place,
        local_date,
        count(temperature_2m) as hours_with_weather,
        min(temperature_2m) as temperature_min,
        max(temperature_2m) as temperature_max,
        avg(temperature_2m) as temperature_mean,
        avg(relative_humidity_2m) as relative_humidity_mean,
        sum(precipitation) as precipitation_sum,
        avg(wind_speed_10m) as wind_speed_mean
    from hourly
    group by place, local_date

),

whole_days as (

    -- A day with under three quarters of its hours of weather (the edges of what was
    -- fetched) has no daily measures: a minimum over half a day is not the day's minimum.
    select
        place,
        local_date,
        hours_with_weather,
        {% for measure in ["temperature_min", "temperature_max", "temperature_mean",
                           "relative_humidity_mean", "precipitation_sum", "wind_speed_mean"] -%}
        case when hours_with_weather >= 18 then {{ measure }} end as {{ measure }}{{ "," if not loop.last }}
        {% endfor %}
    from daily

),

final as (

    -- Heat as people there feel it: the day's maximum against the place's own climate
    -- (every day of it in the lake), in standard deviations. People acclimatise, and
    -- epidemiology reads heat against each city's own distribution: 33 °C is an ordinary
    -- day in Singapore (sd 1.4 °C) and a hot one in Berlin.
    select
        *,
        (temperature_max - avg(temperature_max) over place_climate)
            / nullif(stddev_samp(temperature_max) over place_climate, 0) as temperature_max_z
    from whole_days
    window place_climate as (partition by place)

)

select * from final
