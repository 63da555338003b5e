{#- Past predictions next to what happened: one row per person, place and predicted day. -#}

with predictions as (

    select * from {{ ref('stg_predictions__next_day') }}

),

diary as (

    select * from {{ ref('stg_diary__events') }}

),

final as (

    select
        p.person,
        p.place,
        p.predicts_date,
        p.probability,
        p.model_version,
        p.run_id,
        p.scored_at,
        d.is_sick as was_sick,
        case when d.is_sick is not null
            then power(p.probability - cast(d.is_sick as integer), 2) end as squared_error
    from predictions p
    left join diary d
        on d.person = p.person and d.diary_date = p.predicts_date

)

select * from final
