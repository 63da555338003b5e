{#- One row per person, place and predicted day: the last next-day prediction made for it. -#}

with source as (

    select * from {{ source('predictions', 'predictions') }}

),

next_day as (

    -- Only the prediction made the evening before counts: in each scoring run, the row of
    -- that day ("today"); the rows of later days are forecasts further ahead.
    select *
    from source
    qualify cast(local_date as date) = min(cast(local_date as date)) over (
        partition by person, place, scored_at
    )

),

final as (

    select
        person,
        place,
        cast(predicts_date as date) as predicts_date,
        cast(probability as double) as probability,
        reasons,
        model_version,
        run_id,
        cast(scored_at as timestamptz) as scored_at
    from next_day
    qualify row_number() over (
        partition by person, place, predicts_date order by scored_at desc
    ) = 1

)

select * from final
