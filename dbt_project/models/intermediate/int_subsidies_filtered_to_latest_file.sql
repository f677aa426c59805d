-- The current subsidy roll. A load holds every export in the drop folder; each export is a full
-- roll, so only lines of the newest file count (someone dropped from the roll must stop counting).
with latest as (
    {{ latest_load(ref('stg_mzj__subsidy_roll')) }}
)
select *
from latest
where source_file is not distinct from (select max(source_file) from latest)
