-- The current subsidy roll. Raw keeps the rows of every export still loaded (files mode replaces a
-- changed file's rows and keeps the others); each export is a full roll, so only lines of the newest
-- file count (someone dropped from the roll must stop counting).
select roll.*
from {{ ref('stg_mzj__subsidy_roll') }} as roll
where roll.source_file is not distinct from (
    select max(latest.source_file) from {{ ref('stg_mzj__subsidy_roll') }} as latest
)
