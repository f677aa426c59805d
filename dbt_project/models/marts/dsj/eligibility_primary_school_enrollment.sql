-- 义务教育入学"零材料": one row per child on a school's enrollment sheet, with each condition the county can check
-- from records it already holds, the department whose record shows it (null when no record shows it), and
-- eligible when all four hold:
--   residence: the child is registered in the county (gaj) or the guardian holds a valid residence permit (gaj);
--   housing:   the guardian owns a home (住宅) in the county (zjj) or holds a valid residence permit (gaj);
--   age:       the child is six by 31 August of the intake year (the birth date's department: gaj, wjj or jyj);
--   vaccination: every dose of the national schedule due by now is recorded (wjj).
-- Columns and types are the ODCS contract's (contracts/dsj/eligibility_primary_school_enrollment.odcs.yaml).
with applications as (
    select * from {{ ref('int_enrollment_applications_deduplicated') }}
),

master as (
    select * from {{ ref('resident_master_index') }}
),

checks as (
    select
        a.student_id_number,
        a.student_name,
        a.intake_year,
        a.school_code,
        a.guardian_id_number,
        a.guardian_name,
        a.applied_on,
        child.birth_date,
        coalesce(child.is_registered_resident, false) as child_registered,
        coalesce(guardian.has_residence_permit, false) as guardian_permit_valid,
        coalesce(homes.owns_residential, false) as guardian_owns_home,
        child.birth_date_source,
        child.birth_date <= make_date(
            a.intake_year - {{ eligibility_parameter('school_entry_age', 'integer') }},
            {{ eligibility_parameter('school_age_cutoff_month', 'integer') }},
            {{ eligibility_parameter('school_age_cutoff_day', 'integer') }}
        ) as age_met,
        coalesce(vaccinations.is_complete, false) as vaccination_met,
        vaccinations.missing_list
    from applications as a
    left join master as child on a.student_id_number = child.id_number
    left join master as guardian on a.guardian_id_number = guardian.id_number
    left join {{ ref('int_properties_aggregated_to_owners') }} as homes on a.guardian_id_number = homes.id_number
    left join {{ ref('int_children_vaccinations_checked') }} as vaccinations
        on a.student_id_number = vaccinations.child_id_number
)

select
    student_id_number::varchar as student_id_number,
    student_name::varchar as student_name,
    intake_year::integer as intake_year,
    school_code::varchar as school_code,
    guardian_id_number::varchar as guardian_id_number,
    guardian_name::varchar as guardian_name,
    applied_on::date as applied_on,
    birth_date::date as birth_date,
    child_registered::boolean as child_registered,
    guardian_permit_valid::boolean as guardian_permit_valid,
    guardian_owns_home::boolean as guardian_owns_home,
    (child_registered or guardian_permit_valid)::boolean as residence_met,
    {{ evidence('child_registered or guardian_permit_valid', 'gaj') }} as residence_evidence,
    (guardian_owns_home or guardian_permit_valid)::boolean as housing_met,
    (case when guardian_owns_home then 'zjj' when guardian_permit_valid then 'gaj' end)::varchar
        as housing_evidence,
    coalesce(age_met, false)::boolean as age_met,
    (case when age_met then birth_date_source end)::varchar as age_evidence,
    vaccination_met::boolean as vaccination_met,
    {{ evidence('vaccination_met', 'wjj') }} as vaccination_evidence,
    missing_list::varchar as missing_vaccinations,
    (
        (child_registered or guardian_permit_valid) and (guardian_owns_home or guardian_permit_valid)
        and coalesce(age_met, false) and vaccination_met
    )::boolean as eligible
from checks
