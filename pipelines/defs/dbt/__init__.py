"""The dbt project as Dagster assets; dbt tests become asset checks."""
