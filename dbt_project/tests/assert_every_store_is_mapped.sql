{{ config(severity='warn') }}
-- A warning means a source named a store the seed `stores` does not know: its orders keep the
-- source's own store id, so the same Amazon marketplace read from the API and from an export
-- would count as two stores. Add the store to seeds/stores.csv.
select *
from {{ ref('int_stores_mapped') }}
where not is_mapped
