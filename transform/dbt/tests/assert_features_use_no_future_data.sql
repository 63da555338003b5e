{#- Fails on any feature row whose values could not be computed from data up to its day.

    Recomputes, from the daily table and the diary alone, each row's lags, rolling means and
    label with explicit "on or before the day" bounds, and returns the rows that disagree. -#}

with features as (

    select * from {{ ref('fct_daily_features') }}

),

daily as (

    select * from {{ ref('int_air_quality_daily') }}

),

diary as (

    select * from {{ ref('stg_diary__events') }}

),

recomputed as (

    select
        f.person,
        f.place,
        f.local_date,
        (select d.pm2_5_mean from daily d
         where d.place = f.place and d.local_date = f.local_date - 1) as pm2_5_mean_lag1,
        (select avg(d.pm2_5_mean) from daily d
         where d.place = f.place
           and d.local_date between f.local_date - 6 and f.local_date) as pm2_5_mean_roll7,
        (select avg(d.ozone_max) from daily d
         where d.place = f.place
           and d.local_date between f.local_date - 2 and f.local_date) as ozone_max_roll3,
        (select count(*) from diary s
         where s.person = f.person and s.is_sick
           and s.diary_date between f.local_date - 6 and f.local_date) as sick_days_last_7,
        (select s.is_sick from diary s
         where s.person = f.person and s.diary_date = f.local_date + 1) as sick_next_day
    from features f

),

disagreements as (

    select
        f.person,
        f.place,
        f.local_date
    from features f
    join recomputed r using (person, place, local_date)
    where f.pm2_5_mean_lag1 is distinct from r.pm2_5_mean_lag1
       or abs(coalesce(f.pm2_5_mean_roll7, -1) - coalesce(r.pm2_5_mean_roll7, -1)) > 1e-9
       or abs(coalesce(f.ozone_max_roll3, -1) - coalesce(r.ozone_max_roll3, -1)) > 1e-9
       or f.sick_days_last_7 is distinct from r.sick_days_last_7
       or f.sick_next_day is distinct from r.sick_next_day

)

select * from disagreements
