{#- Fails on each value outside its column's [min, max] in `ranges` ({column: [min, max]});
nulls pass.

One query for a model's columns rather than a range test per column (see
`not_null_columns`). The failing rows name the column and the value. -#}
{% test values_between(model, ranges) %}
{%- for column, bounds in ranges.items() %}
select '{{ column }}' as column_name, cast({{ column }} as double) as value
from {{ model }}
where {{ column }} < {{ bounds[0] }} or {{ column }} > {{ bounds[1] }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
