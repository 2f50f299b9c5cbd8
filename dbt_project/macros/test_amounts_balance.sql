{#- Generic test: an amount equals the signed sum of its components, exactly (decimals, no
    tolerance). Fails with the rows where it does not. Usage in YAML:
      - amounts_balance:
          total: total_amount
          plus: [subtotal_amount, shipping_amount, tax_amount]
          minus: [] -#}
{% test amounts_balance(model, total, plus, minus=[], where=none) %}
select *
from {{ model }}
where {{ total }} <> (
    {%- for column in plus %} coalesce({{ column }}, 0) {%- if not loop.last %} + {% endif %}{% endfor %}
    {%- for column in minus %} - coalesce({{ column }}, 0){% endfor %}
)
{%- if where %} and ({{ where }}){% endif %}
{% endtest %}
