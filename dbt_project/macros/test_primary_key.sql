{#- Generic test: the column is a key - never null and never repeated. One scan instead of the
    two of `unique` + `not_null` (one dbt node instead of two: each costs a query and its
    bookkeeping, about 0.3 s, and the build runs some eighty of them). Fails with every
    repeated value and a row for nulls (`row_count` says how many). Usage: `- primary_key`. -#}
{% test primary_key(model, column_name) %}
select {{ column_name }}, count(*) as row_count
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
