-- Every record that names a person, from every department, in one shape: who (id_number), which department and
-- system said it, the person fields it carries (null where that system has no such field) and when it was
-- recorded. resident_master_index picks a winner per field from these (survivorship_rules); resident_conflicts
-- lists the disagreements.
with records as (
    select
        id_number,
        'gaj' as department,
        'persons' as source,
        name,
        gender,
        birth_date,
        address,
        phone,
        township_code,
        updated_at as recorded_at
    from {{ ref('stg_gaj__persons') }}
    union all
    select
        id_number,
        'gaj' as department,
        'residence_permits' as source,
        name,
        gender,
        birth_date,
        address,
        null as phone,
        township_code,
        updated_at as recorded_at
    from {{ ref('stg_gaj__residence_permits') }}
    union all
    select
        id_number,
        'rsj' as department,
        'insured_persons' as source,
        name,
        gender,
        null as birth_date,
        address,
        phone,
        township_code,
        updated_at as recorded_at
    from {{ ref('stg_rsj__insured_persons') }}
    union all
    select
        id_number,
        'rsj' as department,
        'talents' as source,
        name,
        null as gender,
        null as birth_date,
        null as address,
        null as phone,
        null as township_code,
        updated_at as recorded_at
    from {{ ref('stg_rsj__talents') }}
    union all
    -- a home's address is where its owner lives; a shop's or a workshop's is not
    select
        owner_id_number as id_number,
        'zjj' as department,
        'property_records' as source,
        owner_name as name,
        null as gender,
        null as birth_date,
        case when usage = '住宅' then address end as address,
        null as phone,
        township_code,
        updated_at as recorded_at
    from {{ ref('stg_zjj__property_records') }}
    union all
    select
        applicant_id_number as id_number,
        'zjj' as department,
        'rental_applications' as source,
        applicant_name as name,
        null as gender,
        null as birth_date,
        null as address,
        null as phone,
        township_code,
        updated_at as recorded_at
    from {{ ref('stg_zjj__rental_applications') }}
    union all
    select
        child_id_number as id_number,
        'wjj' as department,
        'vaccinations' as source,
        child_name as name,
        null as gender,
        birth_date,
        null as address,
        null as phone,
        null as township_code,
        updated_at as recorded_at
    from {{ ref('int_vaccinations_deduplicated') }}
    union all
    -- The sheet's 户籍地址 is the student's registered address, comparable with gaj's; the phone is the guardian's.
    select
        student_id_number as id_number,
        'jyj' as department,
        'enrollment_applications' as source,
        student_name as name,
        gender,
        birth_date,
        registered_address as address,
        null as phone,
        null as township_code,
        applied_on as recorded_at
    from {{ ref('int_enrollment_applications_deduplicated') }}
    union all
    select
        guardian_id_number as id_number,
        'jyj' as department,
        'enrollment_applications' as source,
        guardian_name as name,
        null as gender,
        null as birth_date,
        null as address,
        phone,
        null as township_code,
        applied_on as recorded_at
    from {{ ref('int_enrollment_applications_deduplicated') }}
    union all
    select
        id_number,
        'mzj' as department,
        'subsidy_roll' as source,
        name,
        null as gender,
        null as birth_date,
        null as address,
        null as phone,
        township_code,
        loaded_at as recorded_at
    from {{ ref('int_subsidies_filtered_to_latest_file') }}
    union all
    select
        id_number,
        'mzj' as department,
        'elderly_allowances' as source,
        name,
        null as gender,
        null as birth_date,
        null as address,
        null as phone,
        township_code,
        loaded_at as recorded_at
    from {{ ref('stg_mzj__elderly_allowances') }}
    -- each monthly export is the whole roll: someone dropped from the newest file is no longer on it
    where
        source_file is not distinct from (
            select max(newest.source_file) from {{ ref('stg_mzj__elderly_allowances') }} as newest
        )
)

select
    id_number::varchar as id_number,
    department::varchar as department,
    source::varchar as source,
    nullif(trim(name::varchar), '') as name,
    nullif(trim(gender::varchar), '') as gender,
    try_cast(birth_date as date) as birth_date,
    nullif(trim(address::varchar), '') as address,
    nullif(trim(phone::varchar), '') as phone,
    nullif(trim(township_code::varchar), '') as township_code,
    try_cast(recorded_at as timestamp) as recorded_at
from records
where id_number is not null
