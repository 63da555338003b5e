{#- One row per place and UTC hour: the latest value fetched for it, implausible values
    quarantined (null here, listed in `quarantined`; raw keeps them as the API sent them). -#}
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
        list_filter(
            [
                {% for variable in variables -%}
                {'variable': '{{ variable }}', 'value': {{ variable }}_as_sent}{{ "," if not loop.last }}
                {% endfor %}
            ],
            entry -> entry.value is not null and not (
                {% for variable, range in plausible_ranges().items() -%}
                (entry.variable = '{{ variable }}' and entry.value between {{ range[0] }} and {{ range[1] }})
                {{- " or" if not loop.last }}
                {% endfor %}
            )
        ) as quarantined
    from typed

)

select * from final
