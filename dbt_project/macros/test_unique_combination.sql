{#- Generic test: no two rows share the same values in `columns` (nulls compare equal, so a
    blank marketplace id still counts as a value). Written here because dbt packages cannot be
    installed offline (DESIGN.md). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
