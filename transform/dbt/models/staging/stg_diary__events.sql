{#- One row per person and date: the latest diary event for it. -#}
{#- A table, not a view: the build reads the raw diary once, here, and every model and test
    after reads this table. As a view, each reader read the raw files again, and an entry
    logged during the build reached the tests but not the features built before them. -#}
{{ config(materialized="table") }}

with source as (

    select * from {{ source('diary', 'diary') }}

),

latest_event as (

    select *
    from source
    qualify row_number() over (partition by person, "date" order by recorded_at desc) = 1

),

final as (

    select
        person,
        cast("date" as date) as diary_date,
        cast(sick as boolean) as is_sick,
        symptoms,
        cast(severity as integer) as severity,
        note,
        cast(recorded_at as timestamptz) as recorded_at,
        source as recorded_via,
        event_id
    from latest_event

)

select * from final
