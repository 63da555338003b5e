{#- The mart training reads: one row per person, place and local day up to today. -#}

with features as (

    select * from {{ ref('int_daily_features') }}

),

final as (

    select *
    from features
    where local_date <= {{ today() }}

)

select * from final
