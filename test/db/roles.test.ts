// What the runtime role may do, exactly: the list docs/operations.md ("Database roles") gives a
// city, checked against the migrated database. A grant added or lost fails here first.
import pg from 'pg'
import t from 'tap'
import { createTestDatabase, RUNTIME_LOGIN } from '../helpers/db.js'

/** Table privileges of townsquare_runtime, and why it needs each beyond SELECT and INSERT. */
const TABLES: Record<string, string> = {
  'graphile_worker._private_job_queues': 'SELECT,INSERT,UPDATE,DELETE', // the job worker takes, completes and fails jobs
  'graphile_worker._private_jobs': 'SELECT,INSERT,UPDATE,DELETE',
  'graphile_worker._private_known_crontabs': 'SELECT,INSERT,UPDATE,DELETE',
  'graphile_worker._private_tasks': 'SELECT,INSERT,UPDATE,DELETE',
  'graphile_worker.jobs': 'SELECT,INSERT,UPDATE,DELETE', // a view over _private_jobs
  'graphile_worker.migrations': 'SELECT', // the worker checks its version; only the owner migrates it
  'public._prisma_migrations': 'SELECT', // /readyz compares applied migrations with the files
  'public.access_log': 'SELECT,INSERT',
  'public.account_block_action': 'SELECT,INSERT', // blocks and unblocks: append-only, the latest row per account counts
  'public.console_session': 'SELECT,INSERT,UPDATE,DELETE', // console sign-ins: not records; ended, touched, pruned
  'public.console_sign_in': 'SELECT,INSERT,DELETE', // an OpenID Connect sign-in under way, deleted at the callback
  'public.appeal': 'SELECT,INSERT,UPDATE', // status and outcome of an appeal
  'public.appeal_reference': 'SELECT,INSERT',
  'public.comment': 'SELECT,INSERT,UPDATE', // the current state of a comment, a projection of its events
  'public.comment_evaluation': 'SELECT,INSERT',
  'public.comment_event': 'SELECT,INSERT',
  'public.comment_text_search': 'SELECT,INSERT',
  'public.disposal': 'SELECT,INSERT,UPDATE', // approval and execution, forward only (trigger)
  'public.disposal_record': 'SELECT,INSERT,UPDATE', // each record's outcome in its disposal
  'public.foia_denial_exemption': 'SELECT,INSERT',
  'public.foia_fee': 'SELECT,INSERT',
  'public.foia_letter': 'SELECT,INSERT',
  'public.foia_letter_delivery': 'SELECT,INSERT',
  'public.foia_letter_template': 'SELECT,INSERT', // a new version per edit
  'public.foia_message': 'SELECT,INSERT',
  'public.foia_production': 'SELECT,INSERT',
  'public.foia_redaction': 'SELECT,INSERT,UPDATE', // a clerk's decision on a suggested redaction
  'public.foia_request': 'SELECT,INSERT,UPDATE', // status, deadline extension
  'public.foia_request_record': 'SELECT,INSERT', // UPDATE of the detachment columns only: see below
  'public.foia_review_event': 'SELECT,INSERT',
  'public.foia_request_status': 'SELECT,INSERT',
  'public.foia_search': 'SELECT,INSERT',
  'public.foia_search_result': 'SELECT,INSERT',
  'public.foia_tracking_counter': 'SELECT,INSERT,UPDATE', // the next tracking number of a year
  'public.foia_withholding': 'SELECT,INSERT', // append-only: the latest decision on a record counts
  'public.idempotency_record': 'SELECT,INSERT,UPDATE,DELETE', // replayable answers, expired after a day
  'public.installation_secret': 'SELECT', // event keys are HMACs under it; made by its migration, never changed
  // Written only through ledger_seal and ledger_add_checkpoint, which compute what they store.
  'public.ledger_checkpoint': 'SELECT',
  'public.ledger_entry': 'SELECT', // INSERT of some columns only: see below
  'public.ledger_leaf': 'SELECT',
  'public.ledger_reconciliation': 'SELECT,INSERT', // each run's result, written by the job or a request
  'public.ledger_seal_state': 'SELECT',
  'public.ledger_signing_key': 'SELECT',
  'public.ledger_tree_node': 'SELECT',
  'public.legal_hold': 'SELECT,INSERT,UPDATE', // release
  'public.legal_hold_record': 'SELECT,INSERT',
  'public.moderation_decision': 'SELECT,INSERT',
  'public.platform_action': 'SELECT,INSERT,UPDATE', // attempts and outcome of a platform call
  'public.platform_connection': 'SELECT,INSERT,UPDATE', // the admin's connections: current state, changes in the ledger
  'public.platform_health': 'SELECT,INSERT,UPDATE', // last success, error and webhook per platform
  'public.policy': 'SELECT,INSERT,UPDATE',
  'public.policy_version': 'SELECT,INSERT,UPDATE', // drafts; published versions are frozen (trigger)
  'public.retention_schedule': 'SELECT,INSERT,UPDATE',
  'public.retention_settings': 'SELECT', // the owner's floor for notice periods
  'public.review_item': 'SELECT,INSERT,UPDATE', // claims and resolution
  'public.webhook_delivery': 'SELECT,INSERT',
}

t.test('the runtime role has exactly the documented rights, and nothing an owner has', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const owner = new pg.Client({ connectionString: database.url })
  await owner.connect()
  t.teardown(() => owner.end())
  const rows = async <T extends pg.QueryResultRow>(sql: string) => (await owner.query<T>(sql)).rows

  const tables = await rows<{ name: string; privileges: string }>(`
    SELECT n.nspname || '.' || c.relname AS name,
           array_to_string(ARRAY(SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
                                 WHERE has_table_privilege('townsquare_runtime', c.oid, p)), ',') AS privileges
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'graphile_worker') AND c.relkind IN ('r', 'p', 'v', 'm')
    ORDER BY 1`)
  t.same(Object.fromEntries(tables.map((r) => [r.name, r.privileges])), TABLES, 'table privileges: no TRUNCATE anywhere, UPDATE and DELETE only where listed')

  const sequences = await rows<{ name: string; update: boolean }>(`
    SELECT n.nspname || '.' || c.relname AS name, has_sequence_privilege('townsquare_runtime', c.oid, 'UPDATE') AS update
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'graphile_worker') AND c.relkind = 'S'`)
  t.ok(sequences.length > 0 && sequences.every((s) => !s.update), 'no sequence can be reset (setval)')

  const definers = await rows<{ name: string; runtime: boolean; public: boolean }>(`
    SELECT p.proname AS name, has_function_privilege('townsquare_runtime', p.oid, 'EXECUTE') AS runtime,
           EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0) AS public
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('public', 'graphile_worker') AND p.prosecdef ORDER BY 1`)
  t.same(
    definers,
    [
      { name: 'dispose_records', runtime: true, public: false },
      { name: 'ledger_add_checkpoint', runtime: true, public: false },
      { name: 'ledger_seal', runtime: true, public: false },
    ],
    'three functions run with the owner\'s rights, for the runtime role only: disposal, sealing, checkpoints',
  )

  const ledgerColumns = await rows<{ column: string }>(`
    SELECT a.attname AS column FROM pg_attribute a
     WHERE a.attrelid = 'public.ledger_entry'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND has_column_privilege('townsquare_runtime', a.attrelid, a.attnum, 'INSERT') ORDER BY a.attnum`)
  t.same(
    ledgerColumns.map((c) => c.column),
    ['id', 'kind', 'subject', 'actor', 'payload', 'payload_salt', 'payload_commitment'],
    'a ledger entry\'s time (recorded_at) and sealing order (tx_id, seq) are the database\'s to set',
  )

  const recordColumns = await rows<{ column: string }>(`
    SELECT a.attname AS column FROM pg_attribute a
     WHERE a.attrelid = 'public.foia_request_record'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND has_column_privilege('townsquare_runtime', a.attrelid, a.attnum, 'UPDATE') ORDER BY a.attnum`)
  t.same(
    recordColumns.map((c) => c.column),
    ['search_id', 'attached_at', 'attached_by', 'detached_at', 'detached_by', 'detach_reason'],
    'an attached record can be detached and attached again, never moved to another request or comment',
  )

  const [rights] = await rows<Record<string, boolean>>(`
    SELECT has_schema_privilege('townsquare_runtime', 'public', 'CREATE') AS create_in_public,
           has_schema_privilege('townsquare_runtime', 'graphile_worker', 'CREATE') AS create_in_worker_schema,
           has_database_privilege('townsquare_runtime', current_database(), 'CREATE') AS create_schema,
           r.rolsuper AS superuser, r.rolcreaterole AS create_role, r.rolcreatedb AS create_database, r.rolbypassrls AS bypass_rls, r.rolcanlogin AS login,
           EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) OR EXISTS (SELECT 1 FROM pg_namespace s WHERE s.nspowner = r.oid) AS owns_anything
    FROM pg_roles r WHERE r.rolname = 'townsquare_runtime'`)
  t.same(rights, {
    create_in_public: false,
    create_in_worker_schema: false,
    create_schema: false,
    superuser: false,
    create_role: false,
    create_database: false,
    bypass_rls: false,
    login: false,
    owns_anything: false,
  }, 'no DDL, no role or database creation, no bypass of row-level security, owns nothing, cannot log in itself')

  const [login] = await rows<{ memberOf: string[]; superuser: boolean }>(`
    SELECT ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid) AS "memberOf", r.rolsuper AS superuser
    FROM pg_roles r WHERE r.rolname = '${RUNTIME_LOGIN.role}'`)
  t.same(login, { memberOf: ['townsquare_runtime'], superuser: false }, 'the service under test logs in as a member of townsquare_runtime and nothing more')
})
