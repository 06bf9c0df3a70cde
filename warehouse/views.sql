-- The public interface: stable names and columns that other tools depend on.
-- {core} is the internal tables' schema prefix ('barometer_core.' on PostgreSQL, '' on SQLite).

CREATE VIEW barometer_observation AS
SELECT o.indicator_code, o.measure, o.group_code, o.area_code, o.period_code, o.reference_date,
       o.value, o.numerator, o.denominator, o.n, o.ci_low, o.ci_high, o.obs_status,
       o.delivery_id, d.name AS delivery_name, o.run_id
FROM {core}observation o
LEFT JOIN {core}delivery d ON d.delivery_id = o.delivery_id;

CREATE VIEW barometer_edition AS
SELECT e.edition_code, e.indicator_code, i.goal, i.name_da AS indicator_name_da,
       i.name_en AS indicator_name_en, i.unit, i.direction, e.group_code, e.area_code,
       e.reference_date, e.period_code, e.value, e.obs_status, e.ci_low, e.ci_high, e.n,
       e.previous_value, e.previous_reference_date, e.change, e.status, e.target_value,
       e.target_year, e.on_track, e.trend_per_year, e.gap, e.years_to_parity, e.run_id
FROM {core}edition_entry e
JOIN {core}indicator i ON i.indicator_code = e.indicator_code;

CREATE VIEW barometer_delivery AS
SELECT d.delivery_id, d.source, d.name, d.reference_date, d.sha256, d.rows, d.status, d.message,
       d.key_version, d.run_id
FROM {core}delivery d;

CREATE VIEW indicator_catalogue AS
SELECT i.indicator_code, i.goal, g.name_da AS goal_name_da, g.name_en AS goal_name_en,
       i.name_da, i.name_en, i.unit, i.direction, i.source, i.frequency, i.reference_date,
       i.method, i.target_value, i.target_year, i.target_group, i.measured
FROM {core}indicator i
JOIN {core}goal g ON g.goal = i.goal;
