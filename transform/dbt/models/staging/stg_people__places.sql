{#- One row per person and place: whose features each place's air goes into. A table: the
    build reads the people once, at its start (tests/unit/test_raw_readers.py). -#}
{{ config(materialized="table") }}

with source as (

    select * from {{ source('people', 'people') }}

),

final as (

    select distinct
        person,
        place
    from source

)

select * from final
