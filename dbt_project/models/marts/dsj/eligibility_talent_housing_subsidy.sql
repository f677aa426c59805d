-- 人才住房补贴: one row per recognized talent (rsj), with each condition, the department whose record shows it
-- (null when no record shows it), and eligible when all hold:
--   talent:    recognized under the county's talent programme (rsj talents);
--   insured:   contributions being paid in the county for at least talent_min_months_paid months (rsj);
--   no_home:   owns no home (住宅) in the county (zjj's register shows none);
--   residence: registered in the county or holds a valid residence permit (gaj).
-- Columns and types are the ODCS contract's (contracts/dsj/eligibility_talent_housing_subsidy.odcs.yaml).
with talents as (
    select * from {{ ref('stg_rsj__talents') }}
    where id_number is not null
    qualify row_number() over (partition by id_number order by recognized_on desc nulls last, talent_id desc) = 1
),

checks as (
    select
        talents.id_number,
        talents.name,
        talents.talent_category,
        talents.education,
        talents.recognized_on,
        coalesce(insured.months_paid, 0) as months_paid,
        coalesce(insured.months_paid, 0) >= {{ eligibility_parameter('talent_min_months_paid', 'integer') }}
            as insured_met,
        not coalesce(homes.owns_residential, false) as no_home_met,
        coalesce(master.is_registered_resident or master.has_residence_permit, false) as residence_met
    from talents
    left join {{ ref('int_insured_persons_aggregated_to_persons') }} as insured using (id_number)
    left join {{ ref('int_properties_aggregated_to_owners') }} as homes using (id_number)
    left join {{ ref('resident_master_index') }} as master using (id_number)
)

select
    id_number::varchar as id_number,
    name::varchar as name,
    talent_category::varchar as talent_category,
    education::varchar as education,
    recognized_on::date as recognized_on,
    true::boolean as talent_met,
    'rsj'::varchar as talent_evidence,
    months_paid::integer as months_paid,
    insured_met::boolean as insured_met,
    {{ evidence('insured_met', 'rsj') }} as insured_evidence,
    no_home_met::boolean as no_home_met,
    {{ evidence('no_home_met', 'zjj') }} as no_home_evidence,
    residence_met::boolean as residence_met,
    {{ evidence('residence_met', 'gaj') }} as residence_evidence,
    (insured_met and no_home_met and residence_met)::boolean as eligible
from checks
