-- 公租房申请: one row per applicant (their latest application, zjj), with each condition, the department whose
-- record shows it (null when no record shows it), and eligible when all hold:
--   income:    monthly income per person below rental_income_per_person_max (seed eligibility_parameters; zjj);
--   no_home:   owns no home (住宅) in the county (zjj's register shows none);
--   residence: registered in the county or holds a valid residence permit (gaj);
--   not_allocated: none of the applicant's applications has been allocated a unit (已配租, zjj).
-- Columns and types are the ODCS contract's (contracts/dsj/eligibility_public_rental_housing.odcs.yaml).
with applications as (
    select * from {{ ref('int_rental_applications_filtered_to_latest') }}
),

checks as (
    select
        applications.*,
        applications.monthly_income_per_person
        < {{ eligibility_parameter('rental_income_per_person_max') }} as income_met,
        not coalesce(homes.owns_residential, false) as no_home_met,
        coalesce(master.is_registered_resident or master.has_residence_permit, false) as residence_met,
        not applications.ever_allocated as not_allocated_met
    from applications
    left join {{ ref('int_properties_aggregated_to_owners') }} as homes
        on applications.applicant_id_number = homes.id_number
    left join {{ ref('resident_master_index') }} as master on applications.applicant_id_number = master.id_number
)

select
    applicant_id_number::varchar as applicant_id_number,
    applicant_name::varchar as applicant_name,
    application_id::bigint as application_id,
    status::varchar as application_status,
    applied_on::date as applied_on,
    household_size::integer as household_size,
    monthly_income_per_person::decimal(12, 2) as monthly_income_per_person,
    coalesce(income_met, false)::boolean as income_met,
    {{ evidence('income_met', 'zjj') }} as income_evidence,
    no_home_met::boolean as no_home_met,
    {{ evidence('no_home_met', 'zjj') }} as no_home_evidence,
    residence_met::boolean as residence_met,
    {{ evidence('residence_met', 'gaj') }} as residence_evidence,
    not_allocated_met::boolean as not_allocated_met,
    {{ evidence('not_allocated_met', 'zjj') }} as not_allocated_evidence,
    (coalesce(income_met, false) and no_home_met and residence_met and not_allocated_met)::boolean as eligible
from checks
