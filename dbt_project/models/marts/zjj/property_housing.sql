-- 房产与住房保障: one row per person who owns property in the county or has applied for public rental housing:
-- what they own (titles not cancelled) and where their latest rental application stands. Columns and types are the
-- ODCS contract's (contracts/zjj/property_housing.odcs.yaml); property_housing.yml is generated from it.
with owners as (
    select * from {{ ref('int_properties_aggregated_to_owners') }}
),

applications as (
    select * from {{ ref('int_rental_applications_filtered_to_latest') }}
),

people as (
    select id_number from owners
    union
    select applicant_id_number from applications
)

select
    people.id_number::varchar as id_number,
    master.name::varchar as name,
    coalesce(owners.properties_owned, 0)::integer as properties_owned,
    coalesce(owners.total_area_m2, 0)::decimal(12, 2) as total_area_m2,
    coalesce(owners.residential_properties, 0)::integer as residential_properties,
    coalesce(owners.owns_residential, false)::boolean as owns_residential,
    applications.application_id::bigint as rental_application_id,
    applications.status::varchar as rental_application_status,
    applications.applied_on::date as rental_applied_on,
    applications.household_size::integer as rental_household_size,
    coalesce(applications.ever_allocated, false)::boolean as rental_ever_allocated
from people
left join owners using (id_number)
left join applications on people.id_number = applications.applicant_id_number
left join {{ ref('resident_master_index') }} as master using (id_number)
