-- 居民主索引: one row per identity number any department holds. Each person field takes the value of the
-- department the survivorship_rules seed ranks first among those that have one (int_person_fields_ranked), and
-- says which department that was. Columns and types are the ODCS contract's
-- (contracts/dsj/resident_master_index.odcs.yaml); resident_master_index.yml is generated from it.
with records as (
    select * from {{ ref('int_person_records_unioned') }}
),

winners as (
    select * from {{ ref('int_person_fields_ranked') }}
    where field_rank = 1
),

people as (
    select
        id_number,
        string_agg(distinct department, ',' order by department) as source_departments
    from records
    group by id_number
),

fields as (
    -- one winner per person and field, so any_value picks the only one
    select
        id_number,
        any_value(value) filter (where field = 'name') as name_value,
        any_value(department) filter (where field = 'name') as name_source,
        any_value(value) filter (where field = 'gender') as gender_value,
        any_value(department) filter (where field = 'gender') as gender_source,
        any_value(value) filter (where field = 'birth_date') as birth_date_value,
        any_value(department) filter (where field = 'birth_date') as birth_date_source,
        any_value(value) filter (where field = 'address') as address_value,
        any_value(department) filter (where field = 'address') as address_source,
        any_value(value) filter (where field = 'phone') as phone_value,
        any_value(department) filter (where field = 'phone') as phone_source,
        any_value(value) filter (where field = 'township_code') as township_code_value,
        any_value(department) filter (where field = 'township_code') as township_code_source
    from winners
    group by id_number
),

registered as (
    select distinct id_number from {{ ref('stg_gaj__persons') }}
)

select
    people.id_number::varchar as id_number,
    fields.name_value::varchar as name,
    fields.name_source::varchar as name_source,
    fields.gender_value::varchar as gender,
    fields.gender_source::varchar as gender_source,
    fields.birth_date_value::date as birth_date,
    fields.birth_date_source::varchar as birth_date_source,
    fields.address_value::varchar as address,
    fields.address_source::varchar as address_source,
    fields.phone_value::varchar as phone,
    fields.phone_source::varchar as phone_source,
    fields.township_code_value::varchar as township_code,
    fields.township_code_source::varchar as township_source,
    townships.township_name::varchar as township_name,
    (registered.id_number is not null)::boolean as is_registered_resident,
    (permits.id_number is not null)::boolean as has_residence_permit,
    coalesce(insured.is_insured, false)::boolean as is_insured,
    (properties.id_number is not null)::boolean as owns_property,
    people.source_departments::varchar as source_departments
from people
left join fields using (id_number)
left join registered using (id_number)
left join {{ ref('int_residence_permits_filtered_to_valid') }} as permits using (id_number)
left join {{ ref('int_insured_persons_aggregated_to_persons') }} as insured using (id_number)
left join {{ ref('int_properties_aggregated_to_owners') }} as properties using (id_number)
left join {{ ref('townships') }} as townships on fields.township_code_value = townships.township_code
