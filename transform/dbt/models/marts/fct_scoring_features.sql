{#- The rows to score: today and the forecast days, from forecast values as known now. -#}

with features as (

    select * from {{ ref('int_daily_features') }}

),

final as (

    select
        local_date + 1 as predicts_date,
        *
    from features
    where local_date >= {{ today() }}
        -- The last local day can hold only the hours before the forecast ends in UTC.
        and missing_share < 0.5

)

select * from final
