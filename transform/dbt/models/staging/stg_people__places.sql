{#- One row per person and place: whose features each place's air goes into. A table: the
    build reads the people once, at its start (tests/unit/test_raw_readers.py). -#}
{{ config(materialized="table") }}

with source as (

    select * from {{ source('people', 'people') }}

),

latest_addition as (

    -- A person's places are those of their latest addition (airsick_stores.people).
    select *
    from source
    qualify added_at = max(added_at) over (partition by person)

),

final as (

    select distinct
        person,
        place
    from latest_addition

)

select * from final
