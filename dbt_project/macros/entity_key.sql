{#- The cross-channel key of an entity: channel + store + the channel's own id, joined with ':'.
    Built with dbt's cross-database concat and type macros so the same SQL runs on a server
    warehouse. -#}
{% macro entity_key(channel, store_id, external_id) -%}
    {{ dbt.concat([channel, "':'", store_id, "':'", "cast(" ~ external_id ~ " as " ~ dbt.type_string() ~ ")"]) }}
{%- endmacro %}
