{#- One row per person, place and local day, past and forecast: the features and the label.

    Everyone's rows are built at once: each place's air once, joined to each person who has
    the place (stg_people__places), and to that person's diary. Every feature of day d uses only days up to d (windows end at the current row), and the
    label is the diary of day d + 1 and nothing else. -#}
{%- set measures = daily_measures() -%}

with air as (

    select * from {{ ref('int_air_quality_daily') }}

),

weather as (

    select * from {{ ref('int_weather_daily') }}

),

people as (

    select * from {{ ref('stg_people__places') }}

),

daily as (

    select
        people.person,
        air.*,
        weather.* exclude (place, local_date)
    from air
    inner join people
        on people.place = air.place
    left join weather
        on weather.place = air.place
        and weather.local_date = air.local_date

),

diary as (

    select * from {{ ref('stg_diary__events') }}

),

with_diary as (

    select
        daily.*,
        today.is_sick as sick_today,
        tomorrow.is_sick as sick_next_day
    from daily
    left join diary as today
        on today.person = daily.person
        and today.diary_date = daily.local_date
    left join diary as tomorrow
        on tomorrow.person = daily.person
        and tomorrow.diary_date = daily.local_date + 1

),

diary_last_7 as (

    -- The person's last seven days read from the diary itself, not from the days with air:
    -- a diary that starts before the air (or logs a day the air is missing) still counts.
    -- A day not logged is unknown, not well: the history counts logged days apart.
    select
        daily.person,
        daily.place,
        daily.local_date,
        cast(count(past.is_sick) as integer) as logged_days_last_7,
        cast(count(*) filter (where past.is_sick) as integer) as sick_days_last_7,
        count(*) filter (where past.is_sick) / nullif(count(past.is_sick), 0)
            as sick_share_last_7
    from daily
    left join diary as past
        on past.person = daily.person
        and past.diary_date between daily.local_date - 6 and daily.local_date
    group by daily.person, daily.place, daily.local_date

),

windowed as (

    select
        person,
        place,
        local_date,
        place_timezone,
        {% for m in measures -%}
        {{ m }},
        first({{ m }}) over lag_1 as {{ m }}_lag1,
        first({{ m }}) over lag_2 as {{ m }}_lag2,
        first({{ m }}) over lag_3 as {{ m }}_lag3,
        avg({{ m }}) over last_3 as {{ m }}_roll3,
        avg({{ m }}) over last_7 as {{ m }}_roll7,
        {{ m }} - first({{ m }}) over lag_1 as {{ m }}_change1,
        {% endfor -%}
        temperature_min,
        temperature_max,
        temperature_max_z,
        temperature_mean,
        temperature_mean - first(temperature_mean) over lag_1 as temperature_change1,
        relative_humidity_mean,
        precipitation_sum,
        wind_speed_mean,
        hours_with_weather,
        pm2_5_hours_above_who,
        pm10_hours_above_who,
        nitrogen_dioxide_hours_above_who,
        ozone_hours_above_who,
        sick_today,
        logged_days_last_7,
        sick_days_last_7,
        sick_share_last_7,
        isodow(local_date) as weekday,
        isodow(local_date) >= 6 as is_weekend,
        month(local_date) as month,
        dayofyear(local_date) as day_of_year,
        -- Meteorological seasons, flipped south of the equator.
        case
            when month(local_date) in (12, 1, 2) then if(latitude >= 0, 'winter', 'summer')
            when month(local_date) in (3, 4, 5) then if(latitude >= 0, 'spring', 'autumn')
            when month(local_date) in (6, 7, 8) then if(latitude >= 0, 'summer', 'winter')
            else if(latitude >= 0, 'autumn', 'spring')
        end as season,
        missing_share,
        has_enough_data,
        quarantined_values,
        forecast_share,
        sick_next_day
    from with_diary
    inner join diary_last_7 using (person, place, local_date)
    window
        lag_1 as (partition by person, place order by local_date
                  range between interval 1 day preceding and interval 1 day preceding),
        lag_2 as (partition by person, place order by local_date
                  range between interval 2 day preceding and interval 2 day preceding),
        lag_3 as (partition by person, place order by local_date
                  range between interval 3 day preceding and interval 3 day preceding),
        last_3 as (partition by person, place order by local_date
                   range between interval 2 day preceding and current row),
        last_7 as (partition by person, place order by local_date
                   range between interval 6 day preceding and current row)

)

select * from windowed
