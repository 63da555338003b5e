{#- One row per place and local day (in the place's own timezone). -#}
{%- set guidelines = who_guidelines() -%}

with hourly as (

    select * from {{ ref('stg_open_meteo__air_quality') }}

),

localized as (

    {{ with_local_date('hourly') }}

),

daily as (

    select
        place,
        local_date,
        any_value(place_timezone) as place_timezone,
        any_value(latitude) as latitude,
        count(*) as hours_present,
        count(pm2_5) as hours_with_pm2_5,
        -- An hour has data when any pollutant has a value: places lack some variables.
        count(*) filter (where coalesce({{ pollutants() | join(", ") }}) is not null)
            as hours_with_data,
        cast(sum(len(quarantined)) as integer) as quarantined_values,
        avg(case when was_forecast then 1.0 else 0.0 end) as forecast_share,
        {% for variable in pollutants() -%}
        avg({{ variable }}) as {{ variable }}_mean,
        max({{ variable }}) as {{ variable }}_max,
        {% endfor -%}
        {% for variable, level in guidelines.items() -%}
        count(*) filter (where {{ variable }} > {{ level }}) as {{ variable }}_hours_above_who,
        {% endfor -%}
        {% for pollen in pollens() -%}
        sum({{ pollen }}) as {{ pollen }}_sum,
        {% endfor -%}
        {%- for pollen in pollens() %}coalesce(avg({{ pollen }}), 0){{ " + " if not loop.last }}{% endfor %}
            as pollen_total_mean_raw,
        count(grass_pollen) as hours_with_pollen
    from localized
    group by place, local_date

),

final as (

    select
        * exclude (pollen_total_mean_raw, hours_with_pollen),
        -- Pollen is only forecast in Europe: elsewhere the total is unknown, not zero.
        case when hours_with_pollen > 0 then pollen_total_mean_raw end as pollen_total,
        date_diff(
            'hour',
            timezone(place_timezone, cast(local_date as timestamp)),
            timezone(place_timezone, cast(local_date + 1 as timestamp))
        ) as hours_in_day
    from daily

)

select
    *,
    1.0 - least(hours_with_data, hours_in_day) * 1.0 / hours_in_day as missing_share,
    -- A day with under three quarters of its hours is marked: its means are less certain.
    least(hours_with_data, hours_in_day) >= 0.75 * hours_in_day as has_enough_data
from final
-- Ingestion fetches the UTC day before the first local day so that day is whole; the part
-- of the local day before it that comes along is not a day of history.
qualify not (
    local_date = min(local_date) over (partition by place) and hours_present < hours_in_day
)
