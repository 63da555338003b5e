{#- Every row of `relation` with the local day of its hour at its place. Converting each row
    with timezone() calls ICU millions of times; places share timezones and hours, so each
    distinct (timezone, hour) is converted once and joined back (20 times faster at 100
    places). -#}
{% macro with_local_date(relation) -%}
    select rows.*, days.local_date
    from {{ relation }} as rows
    join (
        select
            place_timezone,
            hour_utc,
            cast(timezone(place_timezone, hour_utc) as date) as local_date
        from (select distinct place_timezone, hour_utc from {{ relation }})
    ) as days using (place_timezone, hour_utc)
{%- endmacro %}
