-- 预防接种: one row per child, vaccine and dose. Records arrive a few a day, so only the loads since the last
-- build are read and merged on the dose's key: a dose entered again (a correction, or a second clinic) replaces
-- the earlier entry, and the newest entry of a dose within one batch wins.
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['child_id_number', 'vaccine_code', 'dose_no'],
) }}
select
    child_id_number,
    child_name,
    birth_date,
    vaccine_code,
    vaccine_name,
    dose_no,
    vaccinated_on,
    clinic_code,
    record_id,
    updated_at,
    loaded_at
from {{ ref('stg_wjj__vaccinations') }}
where
    child_id_number is not null and vaccine_code is not null and dose_no is not null
    {% if is_incremental() %}
        and loaded_at > (
            select coalesce(max(existing.loaded_at), timestamp '1900-01-01')
            from {{ this }} as existing
        )
    {% endif %}
qualify row_number() over (
    partition by child_id_number, vaccine_code, dose_no order by updated_at desc nulls last, record_id desc
) = 1
