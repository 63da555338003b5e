{#- One row per place, UTC hour and variable whose value was implausible (quarantined). -#}

with hourly as (

    select * from {{ ref('stg_open_meteo__air_quality') }}

),

unnested as (

    select
        place,
        place_timezone,
        hour_utc,
        unnest(quarantined) as entry
    from hourly
    where len(quarantined) > 0

),

final as (

    select
        place,
        hour_utc,
        cast(timezone(place_timezone, hour_utc) as date) as local_date,
        entry.variable as variable,
        entry.value as value_as_sent
    from unnested

)

select * from final
