{#- One row per place and UTC hour of weather: the archive's value where it has one (ERA5
    is final), else the latest fetch from the forecast API. A fetch whose every variable is
    null (the archive's newest days) never hides another fetch's values. Implausible values
    become null here (raw keeps them as sent). -#}
{#- A table, not a view: the daily weather and its tests read it, and as a view each of them
    would choose between the raw fetches again. -#}
{{ config(materialized="table") }}
{%- set variables = weather_variables() -%}

with source as (

    select * from {{ source('open_meteo_weather', 'weather') }}

),

preferred as (

    select *
    from source
    qualify row_number() over (
        partition by place, "time"
        order by
            coalesce({{ variables | join(", ") }}) is null,
            source = 'archive' desc,
            fetched_at desc
    ) = 1

),

final as (

    select
        place,
        timezone as place_timezone,
        cast("time" as timestamptz) as hour_utc,
        cast(fetched_at as timestamptz) as fetched_at,
        source as fetched_from,
        cast(is_forecast as boolean) as was_forecast,
        {% for variable in variables -%}
        {{ plausible(variable, "cast(" ~ variable ~ " as double)") }} as {{ variable }}{{ "," if not loop.last }}
        {% endfor %}
    from preferred

)

select * from final
