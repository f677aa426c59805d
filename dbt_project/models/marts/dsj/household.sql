-- 户籍家庭: one row per registered household: its head, how many members, children and elders it has (ages on
-- the as-of date) and whether anyone in it is on the current social-assistance roll. Columns and types are the ODCS
-- contract's (contracts/dsj/household.odcs.yaml); household.yml is generated from it.
with households as (
    select * from {{ ref('stg_gaj__households') }}
),

members as (
    select
        persons.household_id,
        count(*) as members,
        count(*) filter (where {{ full_years_between('persons.birth_date', as_of_date()) }} < 18) as children,
        count(*) filter (where {{ full_years_between('persons.birth_date', as_of_date()) }} >= 60) as elders,
        count(subsidies.id_number) as subsidy_recipients
    from {{ ref('stg_gaj__persons') }} as persons
    left join {{ ref('int_subsidies_aggregated_to_persons') }} as subsidies using (id_number)
    group by persons.household_id
),

heads as (
    select
        id_number,
        name
    from {{ ref('stg_gaj__persons') }}
)

select
    households.household_id::bigint as household_id,
    households.head_id_number::varchar as head_id_number,
    heads.name::varchar as head_name,
    households.township_code::varchar as township_code,
    townships.township_name::varchar as township_name,
    households.address::varchar as address,
    households.registered_on::date as registered_on,
    coalesce(members.members, 0)::integer as members,
    coalesce(members.children, 0)::integer as children_under_18,
    coalesce(members.elders, 0)::integer as elders_60_plus,
    (coalesce(members.subsidy_recipients, 0) > 0)::boolean as receives_subsidy,
    coalesce(members.subsidy_recipients, 0)::integer as subsidy_recipients
from households
left join members using (household_id)
left join heads on households.head_id_number = heads.id_number
left join {{ ref('townships') }} as townships on households.township_code = townships.township_code
