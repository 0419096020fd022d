// A synthetic set of retained comment records for the records and FOIA benchmarks, generated with
// set-based SQL (generate_series), so a million comment versions take a minute or two, not hours.
//
// What it writes, into a database migrated with src/db/migrate.ts:
//   - webhook deliveries (a thousand, shared by the events: comment_event needs one);
//   - comments (versions / 3): five platforms with two accounts each, ~150 comments a post,
//     60,000 authors with 1,200 distinct names, spread over two years, 0.5% by the city,
//     2% deleted by their author;
//   - comment versions: 1 to 5 a comment (3 on average), English-like text of 8 to 27 words drawn
//     from a civic vocabulary with a skewed (Zipf-like) frequency, including common two-word
//     phrases ("snow removal", "city council") and a long tail of everyday words, so that a civic
//     term such as "library" is in a few percent of comments; a later version is a new text;
//   - decisions on 5.5% of the public's comments: 2.5% removed and 1% hidden, citing one rule
//     (4.a to 4.k) with the notice text, by the system or one of six moderators, with their
//     platform actions and notices; 2% approved.
// Ledger entries are not written (the ledger has its own benchmark); ledger_entry_id values are
// fresh uuids. The rest is deterministic for a given size: ids are md5-derived, random() is seeded.
import pg from 'pg'

export interface RecordsDatasetOptions {
  /** Comment versions to generate (the comments are a third of that). */
  versions: number
  /** Progress messages. */
  log?: (message: string) => void
}

export interface RecordsDataset {
  comments: number
  versions: number
  decisions: number
  removedOrHidden: number
  /** Platform time of the first and the last comment. */
  from: Date
  to: Date
  seconds: number
}

/** Most frequent first; the generator picks rank r with a probability falling like a power of r. */
export const VOCABULARY = (
  'the and to of a in is for on that it with be this at are was have not our we you they but from will ' +
  // Everyday words (a long tail, so that a civic term is in a few percent of comments, not a sixth).
  'also back after first last long little own other old right big high different small large next ' +
  'early young important few public bad same able see know take come think look want give use find ' +
  'tell ask work seem feel try leave call keep let begin help show hear play run move live believe ' +
  'bring happen write provide sit stand lose pay meet include continue set learn change lead ' +
  'understand watch follow stop create speak read allow add spend grow offer remember love consider ' +
  'appear buy wait serve die send expect build stay fall cut reach kill remain suggest raise pass sell ' +
  'require report decide pull return explain hope develop carry break receive agree support hit ' +
  'produce eat cover catch draw choose cause point listen realize place close money month lot study ' +
  'book eye job word issue side kind head house service friend father power hour game line end member ' +
  'law car name president team minute idea body information parent face others level office door ' +
  'health person art war history party result morning reason research girl guy moment air teacher ' +
  'force education foot boy age policy everything process music market sense nation plan college ' +
  'interest death experience effect class control care field development role effort rate heart drug ' +
  'leader light voice wife police mind price decision son view relationship town road arm difference ' +
  'value building action model season society tax director position player record paper space ground ' +
  'form event official matter center couple site project activity star table need court oil situation ' +
  'cost industry figure street image phone data picture practice piece land product doctor wall ' +
  'patient worker news test movie north technology step baby computer type attention film tree source ' +
  'organization hair window evidence population truth fact mother answer floor ball summer sign thing ' +
  'things stuff lots really very much many most some any each both either neither maybe probably ' +
  'actually certainly clearly simply finally recently usually often sometimes always never already yet ' +
  'soon later today tonight tomorrow yesterday evening night weekend monday friday saturday sunday ' +
  'january april june july august october december hours minutes anyone someone everyone nobody ' +
  'somebody anything something nothing everybody nice happy sad angry upset sure true false real full ' +
  'empty whole free easy hard simple possible impossible available ready late quick slow quiet busy ' +
  'local national federal state county private general special certain clear common major main human ' +
  'social political economic financial legal medical physical natural personal similar various serious ' +
  'recent current past future final entire total basic huge tiny strong weak rich poor cheap expensive ' +
  'fair unfair fine okay ok yes no thank sorry ' +
  'city please road street just can there when why who what about more people like would should been all ' +
  'no do if so my your their again still every week day time year now here need thank thanks get one ' +
  'parking snow|removal trash water council|meeting police traffic park|district school bus tax|levy ' +
  'library pothole potholes construction downtown neighborhood sidewalk lights stop|sign budget mayor ' +
  'fire|department residents drivers speed noise dogs kids playground festival permit ticket tickets ' +
  'fix fixed repair repaired broken closed open opened reopen plow plowed salt ice flooding flood drain ' +
  'river bridge court|street schuyler|avenue station avenue corner block alley lot garage meter meters ' +
  'fee fees bill bills rate rates property|tax assessment vote election candidate alderman ward ' +
  'crime safety patrol officer officers ambulance hospital clinic senior center pool summer winter ' +
  'spring fall holiday parade concert market farmers event events grant funding project projects ' +
  'contractor contract constructed constructing delay delays detour lane lanes bike trail trees tree ' +
  'leaves pickup recycling garbage landfill smell rats housing rent landlord inspection code violation ' +
  'business businesses jobs hiring taxes spending waste transparency records request minutes agenda ' +
  'hearing zoning variance development apartments parking|lot speed|bumps crosswalk signal intersection ' +
  'train crossing railroad horn loud music fireworks curfew teens graffiti vandalism shelter animal ' +
  'streetlight outage power internet cable kankakee riverfront marina boat fishing dam ' +
  'wonderful terrible awful great good bad better worse best worst dangerous unsafe dirty clean ' +
  'disgrace shame thanks|crews great|job well|done'
)
  .split(' ')
  .map((w) => w.replace(/\|/g, ' '))

const FIRST_NAMES = (
  'James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan ' +
  'Joseph Jessica Thomas Sarah Charles Karen Maria Luis Ana Carlos Sofia Daniel Grace Kevin Aisha Omar'
).split(' ')
const LAST_NAMES = (
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez ' +
  'Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark ' +
  'Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores'
).split(' ')

const PLATFORM_ACCOUNTS = {
  facebook: ['city-of-kankakee', 'kankakee-police'],
  instagram: ['cityofkankakee', 'kankakeeparks'],
  x: ['CityOfKankakee', 'KankakeePD'],
  linkedin: ['urn:li:organization:12345', 'urn:li:organization:67890'],
  website: ['www.citykankakee-il.gov', 'parks.citykankakee-il.gov'],
}

export const DATASET_START = new Date('2024-01-01T00:00:00Z')
const SPAN_SECONDS = 2 * 365 * 24 * 3600

/**
 * Fills an empty, migrated database with about `versions` comment versions. The text index is
 * dropped during the load and rebuilt once at the end (one sorted build instead of a million
 * insertions), then the tables are vacuumed and analyzed.
 */
export async function generateRecordsDataset(databaseUrl: string, options: RecordsDatasetOptions): Promise<RecordsDataset> {
  const log = options.log ?? (() => {})
  const started = Date.now()
  const comments = Math.max(1, Math.ceil(options.versions / 3))
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'townsquare-bench-dataset' })
  await client.connect()
  try {
    await client.query(`SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'; SET jit = off`)
    await client.query('SELECT setseed(0.42)')
    const step = async (label: string, sql: string, values: unknown[] = []) => {
      const t0 = Date.now()
      const result = await client.query(sql, values)
      log(`${label}: ${result.rowCount ?? 0} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    }

    // Indexes that only reads need are built once after the load, exactly as the migrations define them.
    const { rows: deferred } = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY($1)`,
      [['comment_text_search_vector_idx', 'comment_text_search_comment_id_idx']],
    )
    for (const index of deferred) await client.query(`DROP INDEX ${pg.escapeIdentifier(index.indexname)}`)

    // h(i): a cheap, well-mixed hash of the ordinal (Knuth's multiplicative hash), used for every choice.
    await client.query(`CREATE FUNCTION pg_temp.h(i bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT (i * 2654435761) % 4294967296 $$`)

    await step(
      'deliveries',
      `INSERT INTO webhook_delivery (id, source, received_at, body, body_sha256, headers, signature_variant, outcome, event_count, skipped)
       SELECT md5('delivery' || n)::uuid, 'meta', $1::timestamptz, convert_to('bench ' || n, 'UTF8'), encode(sha256(convert_to('bench ' || n, 'UTF8')), 'hex'),
              '{}', 'bench', 'accepted', 1, '[]'
         FROM generate_series(0, 999) n`,
      [DATASET_START],
    )

    // Every version's text, generated once: the comments take their current text from the last.
    await step(
      'version texts',
      `CREATE TEMP TABLE gen_version AS
       SELECT i, k, (SELECT string_agg(($2::text[])[1 + floor(power(random(), 2.2) * array_length($2::text[], 1))::int], ' ')
                       FROM generate_series(1, 8 + (i * 7 + k * 3) % 20) g) AS text
         FROM generate_series(1, $1::int) i, generate_series(1, 1 + (i % 5)) k`,
      [comments, VOCABULARY],
    )
    await client.query('CREATE INDEX ON gen_version (i, k)')
    await client.query('ANALYZE gen_version')

    await step(
      'comments',
      `WITH n AS (
         SELECT i, pg_temp.h(i) AS h,
                $2::timestamptz + make_interval(secs => (i::double precision / $1::int) * $3::double precision + (pg_temp.h(i) % 3600)) AS at
           FROM generate_series(1, $1::int) i
       ), p AS (
         SELECT n.*, CASE WHEN h % 100 < 45 THEN 'facebook' WHEN h % 100 < 65 THEN 'instagram' WHEN h % 100 < 80 THEN 'x'
                          WHEN h % 100 < 85 THEN 'linkedin' ELSE 'website' END AS platform,
                (h % 200 = 7) AS by_city,
                CASE WHEN h % 200 = 7 THEN 'none' WHEN (h >> 12) % 1000 < 25 THEN 'remove' WHEN (h >> 12) % 1000 < 35 THEN 'hide'
                     WHEN (h >> 12) % 1000 < 55 THEN 'approve' ELSE 'none' END AS decided,
                (h >> 8) % 60000 AS author
           FROM n
       )
       INSERT INTO comment (id, seq, platform, account, external_id, post_id, author_id, author_name, author_email, by_city, status,
                            moderation_status, current_text, version_count, first_platform_at, last_platform_at, created_at, updated_at)
       SELECT md5('comment' || p.i)::uuid, p.i, p.platform,
              ($4::jsonb -> p.platform ->> ((p.h >> 16) % 2)::int),
              'bench-' || p.i, p.platform || '-post-' || (p.i / 150),
              CASE WHEN p.by_city THEN 'city' ELSE 'author-' || p.author END,
              CASE WHEN p.by_city THEN 'City of Kankakee'
                   ELSE ($5::text[])[1 + p.author % array_length($5::text[], 1)] || ' ' || ($6::text[])[1 + (p.author / 30) % array_length($6::text[], 1)] END,
              CASE WHEN p.platform = 'website' AND NOT p.by_city THEN 'author-' || p.author || '@example.org' END,
              p.by_city,
              CASE WHEN (p.h >> 4) % 50 = 0 THEN 'deleted_by_author' ELSE 'active' END,
              CASE WHEN p.by_city THEN 'city' WHEN p.decided = 'remove' THEN 'removed' WHEN p.decided = 'hide' THEN 'hidden'
                   WHEN p.decided = 'approve' THEN 'approved' ELSE 'allowed' END,
              v.text, 1 + p.i % 5, p.at, p.at + make_interval(hours => 2 * (p.i % 5)), p.at, p.at
         FROM p JOIN gen_version v ON v.i = p.i AND v.k = 1 + p.i % 5`,
      [comments, DATASET_START, SPAN_SECONDS, JSON.stringify(PLATFORM_ACCOUNTS), FIRST_NAMES, LAST_NAMES],
    )
    await client.query(`SELECT setval('comment_seq_seq', $1)`, [comments])

    await step(
      'comment versions',
      `INSERT INTO comment_event (id, comment_id, kind, platform_time, text, event_key, delivery_id, ledger_entry_id, received_at)
       SELECT md5('event' || v.i || '.' || v.k)::uuid, md5('comment' || v.i)::uuid, CASE WHEN v.k = 1 THEN 'created' ELSE 'edited' END,
              c.first_platform_at + make_interval(hours => 2 * (v.k - 1)), v.text, md5(v.i || '.' || v.k),
              md5('delivery' || (v.i % 1000))::uuid, gen_random_uuid(), c.first_platform_at + make_interval(hours => 2 * (v.k - 1), secs => 2)
         FROM gen_version v JOIN comment c ON c.seq = v.i`,
    )
    await step(
      'author deletions',
      `INSERT INTO comment_event (id, comment_id, kind, platform_time, text, event_key, delivery_id, ledger_entry_id, received_at)
       SELECT md5('deleted' || c.seq)::uuid, c.id, 'deleted_by_author', c.last_platform_at + interval '1 day', NULL, md5('deleted' || c.seq),
              md5('delivery' || (c.seq % 1000))::uuid, gen_random_uuid(), c.last_platform_at + interval '1 day 2 seconds'
         FROM comment c WHERE c.status = 'deleted_by_author'`,
    )

    await step(
      'decisions',
      `INSERT INTO moderation_decision (id, comment_id, event_id, policy_version_id, actor, automatic, action, platform_action, rule_codes,
                                        evidence, note, notice_text, ledger_entry_id, decided_at)
       SELECT md5('decision' || c.seq)::uuid, c.id, md5('event' || c.seq || '.' || c.version_count)::uuid, NULL,
              CASE WHEN (pg_temp.h(c.seq) >> 24) % 3 = 0 THEN 'system' ELSE 'user:moderator-' || (pg_temp.h(c.seq) >> 26) % 6 END,
              (pg_temp.h(c.seq) >> 24) % 3 = 0,
              a.action, CASE a.action WHEN 'remove' THEN 'delete' WHEN 'hide' THEN 'hide' ELSE 'none' END,
              CASE WHEN a.action = 'approve' THEN '{}'::text[] ELSE ARRAY['4.' || chr(97 + ((pg_temp.h(c.seq) >> 20) % 11)::int)] END,
              '{}', NULL,
              CASE WHEN a.action = 'approve' THEN NULL
                   ELSE 'Your comment was removed under rule 4.' || chr(97 + ((pg_temp.h(c.seq) >> 20) % 11)::int) ||
                        ' of the City of Kankakee comment policy. You may appeal at https://www.citykankakee-il.gov/comment-appeals.' END,
              gen_random_uuid(), c.last_platform_at + interval '1 hour'
         FROM comment c
         CROSS JOIN LATERAL (SELECT CASE c.moderation_status WHEN 'removed' THEN 'remove' WHEN 'hidden' THEN 'hide' ELSE 'approve' END AS action) a
        WHERE c.moderation_status IN ('removed', 'hidden', 'approved')`,
    )
    await step(
      'platform actions and notices',
      `INSERT INTO platform_action (id, decision_id, comment_id, platform, operation, status, attempts, created_at, completed_at)
       SELECT md5(d.id || o.operation)::uuid, d.id, d.comment_id, c.platform, o.operation, 'succeeded', 1, d.decided_at, d.decided_at + interval '5 seconds'
         FROM moderation_decision d JOIN comment c ON c.id = d.comment_id
        CROSS JOIN LATERAL (VALUES (d.platform_action), ('reply')) o(operation)
        WHERE d.action IN ('remove', 'hide')`,
    )

    for (const index of deferred) {
      const t0 = Date.now()
      await client.query(index.indexdef)
      log(`index ${index.indexname} rebuilt in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    }
    await client.query('DROP TABLE gen_version')
    const t0 = Date.now()
    await client.query('VACUUM ANALYZE')
    // VACUUM dirtied every page it set hints on; flushed now, so the first reads measured do not
    // pay for writing them out (a steady-state database has no such backlog).
    await client.query('CHECKPOINT').catch((error: Error) => log(`CHECKPOINT skipped: ${error.message}`))
    log(`VACUUM ANALYZE and CHECKPOINT in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    const { rows } = await client.query<{ comments: number; versions: number; decisions: number; removed: number; from: Date; to: Date }>(
      `SELECT (SELECT count(*)::int FROM comment) AS comments,
              (SELECT count(*)::int FROM comment_event WHERE kind IN ('created', 'edited')) AS versions,
              (SELECT count(*)::int FROM moderation_decision) AS decisions,
              (SELECT count(*)::int FROM moderation_decision WHERE action IN ('remove', 'hide')) AS removed,
              (SELECT min(first_platform_at) FROM comment) AS "from", (SELECT max(first_platform_at) FROM comment) AS "to"`,
    )
    const r = rows[0]!
    return { comments: r.comments, versions: r.versions, decisions: r.decisions, removedOrHidden: r.removed, from: r.from, to: r.to, seconds: (Date.now() - started) / 1000 }
  } finally {
    await client.end()
  }
}
