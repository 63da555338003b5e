{#- One row per place and UTC hour: the latest value fetched for it. -#}
{%- set variables = pollutants() + pollens() -%}

with source as (

    select * from {{ source('open_meteo', 'air_quality') }}

),

latest_fetch as (

    select *
    from source
    qualify row_number() over (partition by place, "time" order by fetched_at desc) = 1

),

final as (

    select
        place,
        timezone as place_timezone,
        cast(latitude as double) as latitude,
        cast(longitude as double) as longitude,
        cast("time" as timestamptz) as hour_utc,
        cast(fetched_at as timestamptz) as fetched_at,
        cast(is_forecast as boolean) as was_forecast,
        {% for variable in variables -%}
        cast({{ variable }} as double) as {{ variable }}{{ "," if not loop.last }}
        {% endfor %}
    from latest_fetch

)

select * from final
