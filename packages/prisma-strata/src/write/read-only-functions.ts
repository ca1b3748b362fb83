/**
 * Built-in SQL functions (PostgreSQL, SQLite, MySQL/MariaDB) that never write: a `SELECT` calling only these is a plain read.
 * Any other function may be user-defined and write, so a statement calling one is taken as writing every model.
 */
// biome-ignore format: a word list, kept dense
export const readOnlyFunctions = new Set([
  // aggregates and window functions
  'count', 'sum', 'avg', 'min', 'max', 'total', 'array_agg', 'string_agg', 'group_concat', 'json_agg',
  'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'json_group_array', 'json_group_object',
  'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'stddev', 'stddev_pop', 'stddev_samp', 'variance',
  'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode', 'row_number', 'rank',
  'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value',
  'nth_value',
  // strings
  'lower', 'upper', 'length', 'char_length', 'character_length', 'octet_length', 'concat', 'concat_ws',
  'substr', 'substring', 'trim', 'btrim', 'ltrim', 'rtrim', 'replace', 'position', 'strpos', 'instr',
  'split_part', 'left', 'right', 'lpad', 'rpad', 'repeat', 'reverse', 'initcap', 'format', 'printf',
  'quote_ident', 'quote_literal', 'quote', 'md5', 'hex', 'unhex', 'char', 'chr', 'ascii', 'unicode',
  'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_split_to_array', 'starts_with',
  'translate', 'encode', 'decode', 'like', 'glob',
  // numbers
  'abs', 'round', 'floor', 'ceil', 'ceiling', 'trunc', 'mod', 'power', 'pow', 'sqrt', 'exp', 'ln', 'log',
  'log10', 'sign', 'random', 'greatest', 'least', 'div', 'width_bucket',
  // dates
  'now', 'date_trunc', 'date_part', 'extract', 'age', 'to_char', 'to_date', 'to_timestamp', 'to_number',
  'make_date', 'make_interval', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp',
  'timezone', 'date', 'time', 'datetime', 'julianday', 'unixepoch', 'strftime',
  // nulls, types, JSON, arrays, ids
  'coalesce', 'nullif', 'ifnull', 'iif', 'typeof', 'pg_typeof', 'cast', 'likely', 'unlikely',
  'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'to_json',
  'to_jsonb', 'json_extract', 'jsonb_extract_path', 'jsonb_extract_path_text', 'json_extract_path',
  'json_extract_path_text', 'jsonb_set', 'json_object', 'json_array', 'json_array_length',
  'jsonb_array_length', 'json_each', 'jsonb_each', 'json_type', 'jsonb_typeof', 'array_length',
  'cardinality', 'unnest', 'array_to_string', 'string_to_array', 'generate_series', 'gen_random_uuid',
  'uuid_generate_v4', 'randomblob', 'zeroblob', 'version', 'current_database', 'current_schema',
  // MySQL/MariaDB (an unqualified call always means the built-in there)
  'if', 'isnull', 'values', 'value', 'convert', 'lcase', 'ucase', 'mid', 'locate', 'field', 'find_in_set', 'elt',
  'space', 'strcmp', 'substring_index', 'bin', 'oct', 'conv', 'bit_length', 'bit_count', 'bit_xor', 'sha1',
  'sha2', 'crc32', 'from_base64', 'to_base64', 'regexp_like', 'regexp_instr', 'regexp_substr', 'soundex',
  'truncate', 'rand', 'pi', 'degrees', 'radians', 'sin', 'cos', 'tan', 'atan', 'atan2', 'log2',
  'std', 'json_arrayagg', 'json_objectagg',
  'curdate', 'curtime', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp',
  'sysdate', 'utc_date', 'utc_time', 'utc_timestamp', 'date_format', 'time_format', 'str_to_date',
  'date_add', 'date_sub', 'adddate', 'subdate', 'addtime', 'subtime', 'datediff', 'timediff',
  'timestampdiff', 'timestampadd', 'from_unixtime', 'unix_timestamp', 'from_days', 'to_days', 'year',
  'month', 'day', 'dayofmonth', 'dayofweek', 'dayofyear', 'dayname', 'monthname', 'hour', 'minute',
  'second', 'microsecond', 'week', 'weekday', 'weekofyear', 'yearweek', 'quarter', 'last_day', 'makedate',
  'maketime', 'sec_to_time', 'time_to_sec', 'convert_tz',
  'json_unquote', 'json_quote', 'json_contains', 'json_contains_path', 'json_length', 'json_keys',
  'json_valid', 'json_search', 'json_value', 'json_query', 'json_depth', 'json_merge_patch',
  'json_merge_preserve', 'json_set', 'json_insert', 'json_replace', 'json_remove', 'json_array_append',
  'json_array_insert', 'json_overlaps', 'json_pretty', 'json_table',
  'uuid', 'uuid_short', 'database', 'schema', 'user', 'current_user', 'connection_id', 'last_insert_id',
  'row_count', 'found_rows',
])
