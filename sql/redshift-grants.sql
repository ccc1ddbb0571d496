-- What remedy's Redshift service user needs, in Redshift's own SQL. Run once per cluster, as a superuser.
--
-- Who uses it: the Redshift playbook (functions/playbooks/redshift_performance.py) and the monthly Redshift
-- analysis (functions/maintenance/redshift_analysis.py). Both log in with IAM temporary credentials
-- (GetClusterCredentials for the catalog's redshift.db_user, AutoCreate false): the session has the
-- privileges of the existing database user of that name, and only those.
--
-- Parameters (psql variables):  db_user  the catalog's redshift.db_user, e.g. remedy
--                                schemas  the catalog's schemas, quoted and comma-separated, e.g. "analytics"
-- Rendered from a catalog:   remedy redshift grants --env prod > grants.sql
--                            psql -h <endpoint> -p 5439 -d <database> -U <admin> -f grants.sql
-- Or as is:                  psql ... -v db_user=remedy -v schemas='"analytics"' -f sql/redshift-grants.sql
--
-- Nothing here lets the user read or change table data: no SELECT, INSERT, UPDATE or DELETE on any table.
-- The sandbox applies this file to its Redshift stand-in (sandbox/redshift.py), so the game day and the
-- tests prove that these statements, and nothing else, are enough.

-- The user the temporary credentials log in as; IAM only, no password. Skip this line if it exists.
CREATE USER :"db_user" PASSWORD DISABLE;

-- Name the catalog's tables in ANALYZE "schema"."table". USAGE alone gives no access to their rows.
GRANT USAGE ON SCHEMA :schemas TO :"db_user";

-- Every user's rows in STV_RECENTS and STV_WLM_QUERY_STATE (runaway and queued queries, playbook) and in
-- STL_QUERY, SVL_QLOG, STL_WLM_QUERY (monthly analysis). Without it a user sees only its own queries, and
-- the playbook would find no runaway query at all.
ALTER USER :"db_user" SYSLOG ACCESS UNRESTRICTED;

-- System role sys:operator: ANALYZE any table (runbook "Analyze tables") and cancel another user's query
-- (pg_cancel_backend; without it a user can cancel only its own queries).
GRANT ROLE sys:operator TO :"db_user";

-- System views visible only to superusers unless SELECT is granted.
GRANT SELECT ON svv_table_info TO :"db_user";
GRANT SELECT ON stv_wlm_service_class_config TO :"db_user";
GRANT SELECT ON stv_partitions TO :"db_user";
