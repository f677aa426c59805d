-- 不动产 per owner: what each person owns in the county now. A cancelled title (注销) is no longer owned; a
-- mortgaged (抵押) or seized (查封) one still is.
select
    owner_id_number as id_number,
    count(*) as properties_owned,
    sum(area_m2) as total_area_m2,
    count(*) filter (where usage = '住宅') as residential_properties,
    count(*) filter (where usage = '住宅') > 0 as owns_residential
from {{ ref('stg_zjj__property_records') }}
where status is distinct from '注销' and owner_id_number is not null
group by owner_id_number
