-- Alert records are compressed with lz4 rather than pglz (the default) from
-- now on. Every alert version writes its record twice (alerts, alert_versions)
-- and the records of a busy chunk are most of the bytes it writes: pglz
-- compressed a 5 KiB record in about 100 µs of the server's CPU, twice per
-- version, on the correlator's path; lz4 takes a fraction of that to compress
-- and to read back (the correlator reads the records it extends, the feed
-- relay the versions it publishes). Rows written before keep pglz: both read
-- alike. No table is rewritten.
--
-- lz4 is a build option of PostgreSQL (Debian's packages and the official
-- images have it); a server built without it keeps pglz rather than failing.
DO $$
BEGIN
  ALTER TABLE alerts ALTER COLUMN record SET COMPRESSION lz4;
  ALTER TABLE alert_versions ALTER COLUMN record SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not supported by this server: alert records stay compressed with pglz';
END
$$;
