{#- How the served model has done: realized Brier score and ROC AUC per person and month. -#}

with outcomes as (

    select * from {{ ref('fct_hindcast') }}
    where was_sick is not null

),

ranked as (

    -- Mann-Whitney: the AUC is the share of (sick, well) pairs the model ordered right;
    -- tied probabilities take their average rank.
    select
        *,
        date_trunc('month', predicts_date) as month,
        rank() over (partition by person, date_trunc('month', predicts_date) order by probability)
            + (count(*) over (partition by person, date_trunc('month', predicts_date), probability) - 1) / 2.0
            as probability_rank
    from outcomes

),

final as (

    select
        person,
        cast(month as date) as month,
        count(*) as days,
        sum(cast(was_sick as integer)) as sick_days,
        avg(probability) as mean_probability,
        avg(cast(was_sick as integer)) as observed_rate,
        avg(squared_error) as brier,
        case when sum(cast(was_sick as integer)) between 1 and count(*) - 1 then
            (sum(case when was_sick then probability_rank else 0 end)
             - sum(cast(was_sick as integer)) * (sum(cast(was_sick as integer)) + 1) / 2.0)
            / (sum(cast(was_sick as integer)) * (count(*) - sum(cast(was_sick as integer))))
        end as roc_auc,
        string_agg(distinct model_version, ',' order by model_version) as model_versions
    from ranked
    group by person, month

)

select * from final
