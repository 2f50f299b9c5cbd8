{#- Use the folder's schema name as is (staging, marts, ...) instead of dbt's default
    <target_schema>_<custom_schema>: the dashboards, actions and data people query
    `marts.fct_orders`, whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
