-- 居民综合画像: one row per person. Columns and types are the ODCS contract's
-- (contracts/dsj/resident_profile.odcs.yaml); resident_profile.yml is generated from it.
with persons as (
    select * from {{ ref('stg_gaj__persons') }}
),

subsidies as (
    select * from {{ ref('int_subsidies_aggregated_to_persons') }}
),

legal_reps as (
    select
        legal_rep_id_number as id_number,
        count(*) as enterprises
    from {{ ref('stg_scjgj__enterprises') }}
    where legal_rep_id_number is not null
    group by legal_rep_id_number
),

townships as (
    select * from {{ ref('int_townships_unioned') }}
)

select
    persons.id_number::varchar as id_number,
    persons.name::varchar as name,
    persons.gender::varchar as gender,
    persons.birth_date::date as birth_date,
    (
        date_diff('year', persons.birth_date, current_date)
        - case when strftime(current_date, '%m%d') < strftime(persons.birth_date, '%m%d') then 1 else 0 end
    )::integer as age,
    persons.township_code::varchar as township_code,
    townships.township_name::varchar as township_name,
    persons.household_id::bigint as household_id,
    persons.phone::varchar as phone,
    (subsidies.id_number is not null)::boolean as receives_subsidy,
    subsidies.subsidy_types::varchar as subsidy_types,
    coalesce(subsidies.monthly_subsidy_amount, 0)::decimal(12, 2) as monthly_subsidy_amount,
    coalesce(legal_reps.enterprises, 0)::integer as enterprises_as_legal_rep
from persons
left join subsidies on persons.id_number = subsidies.id_number
left join legal_reps on persons.id_number = legal_reps.id_number
left join townships on persons.township_code = townships.township_code
