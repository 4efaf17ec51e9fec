/**
 * Schema of the SQLite adapter. Versioned with `PRAGMA user_version`; each entry migrates from the
 * version before it. Kept close to portable SQL so a PostgreSQL adapter can share its shape.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    from_header TEXT    NOT NULL,
    mail_from   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    html        TEXT,
    text        TEXT,
    pool        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
  );

  CREATE TABLE recipients (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    email           TEXT    NOT NULL,
    domain          TEXT    NOT NULL,
    attrs           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    queued_at       INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    source_ip       TEXT,
    category        TEXT,
    last_code       INTEGER,
    last_text       TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (campaign_id, email)
  );
  -- Only live rows are indexed for claiming: final rows leave the index when their status changes,
  -- so the index stays as small as the queue, not as large as the history.
  CREATE INDEX recipients_due ON recipients (next_attempt_at) WHERE status IN ('queued', 'deferred');

  CREATE TABLE invalid_rows (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    line        INTEGER NOT NULL,
    value       TEXT    NOT NULL,
    reason      TEXT    NOT NULL
  );
  CREATE INDEX invalid_rows_campaign ON invalid_rows (campaign_id);

  -- Append-only accounting, one row per attempt (PowerMTA's accounting file is the model).
  CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    campaign_id  INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    category     TEXT,
    source_ip    TEXT,
    mx_host      TEXT,
    code         INTEGER,
    enhanced     TEXT,
    text         TEXT    NOT NULL,
    duration_ms  INTEGER NOT NULL,
    tls          TEXT    NOT NULL
  );
  CREATE INDEX events_campaign ON events (campaign_id, id);

  CREATE TABLE suppressions (
    email      TEXT PRIMARY KEY,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE engine_lock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    pid   INTEGER NOT NULL,
    host  TEXT    NOT NULL,
    since INTEGER NOT NULL
  );
  `,
  `
  -- Secrets the engine makes for itself at first use (HMAC keys for VERP and tracking tokens).
  CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  `
  -- Egress path state as the running engine last published it (mxpress status; the API later).
  CREATE TABLE egress_paths (
    source_ip     TEXT    NOT NULL,
    site          TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    backoff_until INTEGER,
    connections   INTEGER NOT NULL,
    queued        INTEGER NOT NULL,
    sent          INTEGER NOT NULL,
    throttles     INTEGER NOT NULL,
    message_rate  TEXT,
    last_reply    TEXT,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (source_ip, site)
  );

  -- Messages handed to each (source, site) per UTC day, for warm-up caps that survive restarts.
  CREATE TABLE warmup_counts (
    day       INTEGER NOT NULL,
    source_ip TEXT    NOT NULL,
    site      TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (day, source_ip, site)
  );
  `,
  `
  -- Message options beyond the templates (reply-to, extra headers, transfer encoding) as JSON, and
  -- attachments, stored once per campaign and read once per campaign by the renderer.
  ALTER TABLE campaigns ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
  CREATE TABLE campaign_attachments (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    cid          TEXT,
    content      BLOB    NOT NULL,
    PRIMARY KEY (campaign_id, position)
  );
  `,
  `
  -- Tracking hits per recipient: first time and total of each kind of engagement.
  CREATE TABLE engagement (
    recipient_id    INTEGER PRIMARY KEY REFERENCES recipients(id) ON DELETE CASCADE,
    campaign_id     INTEGER NOT NULL,
    first_open_at   INTEGER,
    opens           INTEGER NOT NULL DEFAULT 0,
    first_click_at  INTEGER,
    clicks          INTEGER NOT NULL DEFAULT 0,
    unsubscribed_at INTEGER
  );
  CREATE INDEX engagement_campaign ON engagement (campaign_id);

  -- Append-only, one row per tracking hit (open, click with its URL, unsubscribe).
  CREATE TABLE engagement_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    campaign_id  INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    url          TEXT
  );
  CREATE INDEX engagement_events_campaign ON engagement_events (campaign_id, id);
  `,
  `
  -- Campaign lifecycle (engine/campaign/lifecycle.ts): the start time of a scheduled campaign.
  ALTER TABLE campaigns ADD COLUMN send_at INTEGER;
  CREATE INDEX campaigns_scheduled ON campaigns (send_at) WHERE status = 'scheduled';
  `,
  `
  -- Stats counters (issue #5): kept as outcomes are written, so no stats request counts rows.
  -- Recipients by (status, category). Triggers follow every change of state (attempts, suppression,
  -- cancel, retry) and deletes; inserts are counted per batch by their writer (countInserted), as a
  -- trigger per inserted row costs a third of the import rate. Category only for deferred, bounced, expired.
  CREATE TABLE campaign_counts (
    campaign_id INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, status, category)
  ) WITHOUT ROWID;
  INSERT INTO campaign_counts (campaign_id, status, category, n)
    SELECT campaign_id, status, CASE WHEN status IN ('deferred', 'bounced', 'expired') THEN COALESCE(category, '') ELSE '' END, COUNT(*)
    FROM recipients GROUP BY 1, 2, 3;
  CREATE TRIGGER recipients_count_update AFTER UPDATE OF status, category ON recipients
  WHEN OLD.status IS NOT NEW.status OR OLD.category IS NOT NEW.category BEGIN
    UPDATE campaign_counts SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND status = OLD.status
      AND category = CASE WHEN OLD.status IN ('deferred', 'bounced', 'expired') THEN COALESCE(OLD.category, '') ELSE '' END;
    INSERT INTO campaign_counts (campaign_id, status, category, n)
    VALUES (NEW.campaign_id, NEW.status, CASE WHEN NEW.status IN ('deferred', 'bounced', 'expired') THEN COALESCE(NEW.category, '') ELSE '' END, 1)
    ON CONFLICT (campaign_id, status, category) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER recipients_count_delete AFTER DELETE ON recipients BEGIN
    UPDATE campaign_counts SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND status = OLD.status
      AND category = CASE WHEN OLD.status IN ('deferred', 'bounced', 'expired') THEN COALESCE(OLD.category, '') ELSE '' END;
  END;

  -- Scalar counters per campaign: invalid rows, opens, clicks, unsubscribes, complaints.
  -- unique_n counts recipients (first hit only); total counts every hit.
  CREATE TABLE campaign_counters (
    campaign_id INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    total       INTEGER NOT NULL,
    unique_n    INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, name)
  ) WITHOUT ROWID;
  INSERT INTO campaign_counters (campaign_id, name, total, unique_n)
    SELECT campaign_id, 'invalid', COUNT(*), COUNT(*) FROM invalid_rows GROUP BY campaign_id;
  INSERT INTO campaign_counters (campaign_id, name, total, unique_n)
    SELECT campaign_id, 'open', SUM(opens), COUNT(first_open_at) FROM engagement GROUP BY campaign_id HAVING COUNT(first_open_at) > 0;
  INSERT INTO campaign_counters (campaign_id, name, total, unique_n)
    SELECT campaign_id, 'click', SUM(clicks), COUNT(first_click_at) FROM engagement GROUP BY campaign_id HAVING COUNT(first_click_at) > 0;
  INSERT INTO campaign_counters (campaign_id, name, total, unique_n)
    SELECT campaign_id, 'unsubscribe', COUNT(unsubscribed_at), COUNT(unsubscribed_at) FROM engagement GROUP BY campaign_id HAVING COUNT(unsubscribed_at) > 0;
  CREATE TRIGGER invalid_rows_count_insert AFTER INSERT ON invalid_rows BEGIN
    INSERT INTO campaign_counters (campaign_id, name, total, unique_n) VALUES (NEW.campaign_id, 'invalid', 1, 1)
    ON CONFLICT (campaign_id, name) DO UPDATE SET total = total + 1, unique_n = unique_n + 1;
  END;
  CREATE TRIGGER invalid_rows_count_delete AFTER DELETE ON invalid_rows BEGIN
    UPDATE campaign_counters SET total = total - 1, unique_n = unique_n - 1 WHERE campaign_id = OLD.campaign_id AND name = 'invalid';
  END;

  -- Attempt outcomes per minute, per recipient domain and per source address (deferred counts
  -- attempts; the final states count once per recipient). Written with each batch of attempts.
  CREATE TABLE campaign_minutes (
    campaign_id INTEGER NOT NULL,
    minute      INTEGER NOT NULL,
    delivered   INTEGER NOT NULL,
    deferred    INTEGER NOT NULL,
    bounced     INTEGER NOT NULL,
    expired     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, minute)
  ) WITHOUT ROWID;
  CREATE TABLE campaign_domains (
    campaign_id INTEGER NOT NULL,
    domain      TEXT    NOT NULL,
    delivered   INTEGER NOT NULL,
    deferred    INTEGER NOT NULL,
    bounced     INTEGER NOT NULL,
    expired     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, domain)
  ) WITHOUT ROWID;
  CREATE TABLE campaign_sources (
    campaign_id INTEGER NOT NULL,
    source_ip   TEXT    NOT NULL,
    delivered   INTEGER NOT NULL,
    deferred    INTEGER NOT NULL,
    bounced     INTEGER NOT NULL,
    expired     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, source_ip)
  ) WITHOUT ROWID;

  -- Failed recipients are listed page by page: only bounced and expired rows are in this index.
  CREATE INDEX recipients_failed ON recipients (campaign_id, id) WHERE status IN ('bounced', 'expired');

  CREATE TRIGGER campaigns_stats_delete AFTER DELETE ON campaigns BEGIN
    DELETE FROM campaign_counts WHERE campaign_id = OLD.id;
    DELETE FROM campaign_counters WHERE campaign_id = OLD.id;
    DELETE FROM campaign_minutes WHERE campaign_id = OLD.id;
    DELETE FROM campaign_domains WHERE campaign_id = OLD.id;
    DELETE FROM campaign_sources WHERE campaign_id = OLD.id;
  END;
  `,
  `
  -- Console accounts (issue #5): users with a role, login sessions (only a hash of the cookie
  -- token is kept), and the owner of each campaign for sender scoping.
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    password_hash TEXT,
    api_key_hash  TEXT    UNIQUE,
    created_at    INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
  );
  ALTER TABLE campaigns ADD COLUMN owner_id INTEGER REFERENCES users(id);
  `,
  `
  -- Recipient lists kept apart from campaigns (issue #5), with what their upload refused; per-sender
  -- suppression beside the global list; test sends; sender domains with their DKIM keys.
  CREATE TABLE lists (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    owner_id   INTEGER REFERENCES users(id),
    status     TEXT    NOT NULL,
    columns    TEXT    NOT NULL DEFAULT '[]',
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE list_members (
    id         INTEGER PRIMARY KEY,
    list_id    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    domain     TEXT    NOT NULL,
    attrs      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (list_id, email)
  );
  CREATE TABLE list_rejects (
    id      INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    file    TEXT,
    line    INTEGER NOT NULL,
    value   TEXT    NOT NULL,
    reason  TEXT    NOT NULL
  );
  CREATE INDEX list_rejects_list ON list_rejects (list_id, id);
  CREATE TABLE sender_suppressions (
    owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, email)
  ) WITHOUT ROWID;
  -- A test send is a small campaign of its own (so it goes through the engine like any other) that
  -- names the campaign it tests; campaign lists leave it out, its stats are its own.
  ALTER TABLE campaigns ADD COLUMN test_of INTEGER REFERENCES campaigns(id) ON DELETE CASCADE;
  CREATE TABLE sender_domains (
    domain        TEXT PRIMARY KEY,
    selector      TEXT    NOT NULL,
    algorithm     TEXT    NOT NULL,
    private_key   TEXT    NOT NULL,
    bounce_domain TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
  );
  `,
  `
  -- Bounces and complaints that arrive by mail are events too; origin tells them from attempts.
  ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'smtp';
  CREATE INDEX events_inbound ON events (recipient_id) WHERE origin <> 'smtp';
  `,
  `
  -- Messages taken in by SMTP submission or the inject API: one campaign each, owned by the user
  -- who sent it (so claims, retries, stats, events and scoping are the campaign path's), with the
  -- submitted bytes sent as they are, DKIM-signed at send time.
  CREATE TABLE submitted_messages (
    campaign_id  INTEGER PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
    raw          BLOB    NOT NULL
  );
  `,
  `
  -- Webhooks (issue #6): the owner's events are read through the two cursors (no outbox rows);
  -- only an acknowledged batch moves them.
  CREATE TABLE webhooks (
    id                INTEGER PRIMARY KEY,
    owner_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url               TEXT    NOT NULL,
    secret            TEXT    NOT NULL,
    events            TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    failures          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    last_error        TEXT,
    last_delivered_at INTEGER,
    attempt_cursor    INTEGER NOT NULL,
    engagement_cursor INTEGER NOT NULL
  );
  `,
  `
  -- Counts content edits: what the engine compiled for a campaign is used only for the revision it
  -- was compiled from, so an edit made while paused is what resume sends.
  ALTER TABLE campaigns ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Sources and pools (issue #5 part 7): the config's are copied in at every start (origin 'config');
  -- those added over the API (origin 'api') persist only here. A member names a source, so a source
  -- a pool names cannot be deleted.
  CREATE TABLE sources (
    address    TEXT PRIMARY KEY,
    helo       TEXT    NOT NULL,
    origin     TEXT    NOT NULL CHECK (origin IN ('config', 'api')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE pools (
    name       TEXT PRIMARY KEY,
    origin     TEXT    NOT NULL CHECK (origin IN ('config', 'api')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE pool_sources (
    pool     TEXT    NOT NULL REFERENCES pools(name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    address  TEXT    NOT NULL REFERENCES sources(address),
    weight   INTEGER NOT NULL CHECK (weight >= 1),
    PRIMARY KEY (pool, position),
    UNIQUE (pool, address)
  );
  CREATE INDEX pool_sources_address ON pool_sources (address);
  `,
  `
  -- IP warm-up per source (JSON {"startDay": ms, "perDay": [..]}; NULL: none): the config's are
  -- copied in with its sources, an API source's is set over the API.
  ALTER TABLE sources ADD COLUMN warmup TEXT;
  `,
  `
  -- The claim takes rows of running campaigns only: through this index it reads the running ones
  -- instead of every campaign ever made (every submitted message is one).
  CREATE INDEX campaigns_running ON campaigns (id) WHERE status = 'running';
  `,
  `
  -- Why the engine paused a campaign (NULL: a person did, or not paused); set by transitionCampaign.
  ALTER TABLE campaigns ADD COLUMN paused_reason TEXT;
  `,
  `
  -- A submitted message's bytes are needed only until its last recipient is final: then its
  -- submitted_messages row is deleted, as an MTA deletes its queue file, and this flag still says
  -- the campaign is a message. Those of messages that ended before this version go now.
  ALTER TABLE campaigns ADD COLUMN submitted INTEGER NOT NULL DEFAULT 0;
  UPDATE campaigns SET submitted = 1 WHERE id IN (SELECT campaign_id FROM submitted_messages);
  DELETE FROM submitted_messages WHERE campaign_id IN (SELECT id FROM campaigns WHERE status IN ('finished', 'cancelled'));
  `,
];
