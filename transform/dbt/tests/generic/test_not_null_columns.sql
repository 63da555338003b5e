{#- Fails on each of `columns` that holds a null, with how many rows do.

One query for a model's columns rather than a `not_null` test per column: each dbt test is
a node of its own, and at about 50 ms a node, per-column tests made half of the evening's
build. The failing rows name the column. -#}
{% test not_null_columns(model, columns) %}
{%- for column in columns %}
select '{{ column }}' as column_name, count(*) as null_rows
from {{ model }}
where {{ column }} is null
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
