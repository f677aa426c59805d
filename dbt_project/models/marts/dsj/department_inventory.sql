-- 部门数据资源目录: one row per data resource of the county — each stream a department's systems hold and each
-- shared dataset it owns — with its sharing type. Built from generated seeds (countyhub.flow.dbt_seeds: the
-- department files and the ODCS contracts). Columns and types are contracts/dsj/department_inventory.odcs.yaml's.
select
    resources.department_code::varchar as department_code,
    departments.department_name::varchar as department_name,
    resources.resource_kind::varchar as resource_kind,
    (case resources.resource_kind when 'held' then '源系统数据' else '共享数据集' end)::varchar as resource_kind_zh,
    resources.resource_name::varchar as resource_name,
    resources.title_zh::varchar as title_zh,
    resources.title_en::varchar as title_en,
    resources.classification::varchar as classification,
    resources.sharing_type::varchar as sharing_type,
    (case resources.sharing_type
        when 'unconditional' then '无条件共享'
        when 'conditional' then '有条件共享'
        when 'not_shared' then '不予共享'
    end)::varchar as sharing_type_zh,
    nullif(resources.sharing_conditions, '')::varchar as sharing_conditions,
    -- Department files say @daily (an Airflow schedule), contracts daily: one word for both.
    nullif(ltrim(resources.update_cycle, '@'), '')::varchar as update_cycle,
    resources.origin::varchar as origin,
    resources.source_departments::varchar as source_departments
from {{ ref('department_resources') }} as resources
left join {{ ref('departments') }} as departments
    on resources.department_code = departments.department_code
