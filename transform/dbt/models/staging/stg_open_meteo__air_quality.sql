{#- One row per place and UTC hour: the latest value fetched for it, implausible values
    quarantined (null here, listed in `quarantined`; raw keeps them as the API sent them). -#}
{#- A table, not a view: the daily tables, the quarantine list and a dozen tests read it, and
    as a view each of them would pick the latest fetch out of the raw files again. -#}
{{ config(materialized="table") }}
{%- set variables = pollutants() + pollens() -%}

with source as (

    select * from {{ source('open_meteo', 'air_quality') }}

),

latest_fetch as (

    select *
    from source
    qualify row_number() over (partition by place, "time" order by fetched_at desc) = 1

),

typed as (

    select
        place,
        timezone as place_timezone,
        cast(latitude as double) as latitude,
        cast(longitude as double) as longitude,
        cast("time" as timestamptz) as hour_utc,
        cast(fetched_at as timestamptz) as fetched_at,
        cast(is_forecast as boolean) as was_forecast,
        {% for variable in variables -%}
        cast({{ variable }} as double) as {{ variable }}_as_sent{{ "," if not loop.last }}
        {% endfor %}
    from latest_fetch

),

final as (

    select
        place,
        place_timezone,
        latitude,
        longitude,
        hour_utc,
        fetched_at,
        was_forecast,
        {% for variable in variables -%}
        {{ plausible(variable, variable ~ "_as_sent") }} as {{ variable }},
        {% endfor -%}
        -- Each value is checked against its own variable's range only.
        list_filter(
            [
                {% for variable in variables -%}
                {%- set low, high = plausible_ranges()[variable] -%}
                case when not ({{ variable }}_as_sent between {{ low }} and {{ high }})
                    then {'variable': '{{ variable }}', 'value': {{ variable }}_as_sent}
                end{{ "," if not loop.last }}
                {% endfor %}
            ],
            entry -> entry is not null
        ) as quarantined
    from typed

)

select * from final
