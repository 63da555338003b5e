{#- Fails when fewer than `share` of the rows have a value in the column. -#}
{% test not_null_share_above(model, column_name, share) %}
select count({{ column_name }}) * 1.0 / nullif(count(*), 0) as filled
from {{ model }}
having count({{ column_name }}) * 1.0 / nullif(count(*), 0) < {{ share }}
{% endtest %}
