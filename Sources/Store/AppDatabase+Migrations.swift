import GRDB

extension AppDatabase {
    /// Migrations are plain SQL with string ids; a shipped migration is never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-history") { db in
            try db.execute(sql: """
                CREATE TABLE account (
                    id TEXT PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL,
                    server TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL,
                    last_success REAL,
                    consecutive_failures INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at REAL NOT NULL,
                    finished_at REAL NOT NULL,
                    accounts INTEGER NOT NULL,
                    failures INTEGER NOT NULL
                );
                -- One row per account per run: success or the failure and its reason.
                CREATE TABLE probe (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    ok INTEGER NOT NULL,
                    duration_seconds REAL NOT NULL,
                    attempts INTEGER NOT NULL,
                    quota_status TEXT,
                    method TEXT,
                    failure_reason TEXT,
                    failure_message TEXT,
                    PRIMARY KEY (run_id, account_id)
                );
                CREATE INDEX probe_account_at ON probe(account_id, at);
                CREATE VIEW failure AS
                    SELECT run_id, account_id, at, failure_reason AS reason, failure_message AS message
                    FROM probe WHERE ok = 0;
                -- Raw quota samples, exactly as the server reported (STORAGE in KiB).
                CREATE TABLE quota_sample (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    usage INTEGER NOT NULL,
                    "limit" INTEGER NOT NULL,
                    PRIMARY KEY (account_id, at, root, resource)
                );
                -- Older samples reduced to the largest usage per hour, then per day.
                CREATE TABLE quota_rollup (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
                    bucket REAL NOT NULL,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    usage INTEGER NOT NULL,
                    "limit" INTEGER NOT NULL,
                    samples INTEGER NOT NULL,
                    PRIMARY KEY (account_id, resolution, bucket, root, resource)
                );
                CREATE TABLE folder_sample (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    raw_name TEXT NOT NULL,
                    special_use TEXT NOT NULL,
                    messages INTEGER NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    PRIMARY KEY (account_id, at, raw_name)
                );
                -- Alert memory (used by the alerts): one row per account, rule and resource.
                CREATE TABLE alert_state (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    state TEXT NOT NULL,
                    since REAL NOT NULL,
                    last_notified REAL,
                    value REAL,
                    PRIMARY KEY (account_id, rule, resource)
                );
                """)
        }
        migrator.registerMigration("v2-failure-counter") { db in
            try db.execute(sql: """
                CREATE TABLE failure_count (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    reason TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (account_id, reason)
                );
                INSERT INTO failure_count (account_id, reason, count)
                    SELECT account_id, failure_reason, COUNT(*) FROM probe WHERE ok = 0 GROUP BY 1, 2;
                """)
        }
        migrator.registerMigration("v3-forecast") { db in
            try db.execute(sql: """
                -- When each quota resource will be full, computed at the end of each run.
                CREATE TABLE forecast (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    full_at REAL,
                    slope_per_second REAL,
                    status TEXT NOT NULL,
                    computed_at REAL NOT NULL,
                    PRIMARY KEY (account_id, root, resource)
                );
                """)
        }
        migrator.registerMigration("v4-outbox") { db in
            try db.execute(sql: """
                -- Notices waiting for a channel. Written in the same transaction as the
                -- alert states that produced them, deleted once delivered: a channel that
                -- is down delays a notice to a later run but never loses it.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    channel TEXT NOT NULL,
                    account_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT
                );
                CREATE INDEX outbox_channel ON outbox(channel, id);
                -- Failed deliveries per channel kind, monotonic (a Prometheus counter).
                CREATE TABLE notification_failure (
                    channel TEXT PRIMARY KEY NOT NULL,
                    count INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5-server-alert") { db in
            try db.execute(sql: """
                -- The latest [ALERT] text the server sent for the account (RFC 3501 §7.1:
                -- it must reach a person), kept until a newer one arrives.
                ALTER TABLE account ADD COLUMN server_alert TEXT;
                ALTER TABLE account ADD COLUMN server_alert_at REAL;
                """)
        }
        migrator.registerMigration("v6-probe-schedule") { db in
            try db.execute(sql: """
                -- When the account is next due for a probe (adaptive polling), and why.
                ALTER TABLE account ADD COLUMN next_probe_at REAL;
                ALTER TABLE account ADD COLUMN next_probe_reason TEXT;
                """)
        }
        migrator.registerMigration("v7-hourly-series") { db in
            try db.execute(sql: """
                -- Each resource's largest usage per hour over the forecast window, kept up to
                -- date as samples arrive: what forecasts and the schedule read (336 rows per
                -- resource for 14 days, not 1,344 raw samples).
                CREATE TABLE quota_hourly (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    hour REAL NOT NULL,
                    usage INTEGER NOT NULL,
                    "limit" INTEGER NOT NULL,
                    PRIMARY KEY (account_id, root, resource, hour)
                ) WITHOUT ROWID;
                INSERT INTO quota_hourly (account_id, root, resource, hour, usage, "limit")
                    SELECT account_id, root, resource, hour, MAX(usage), MAX("limit") FROM (
                        SELECT account_id, root, resource, CAST(at / 3600 AS INTEGER) * 3600 AS hour, usage, "limit"
                        FROM quota_sample
                        UNION ALL
                        SELECT account_id, root, resource, bucket, usage, "limit" FROM quota_rollup WHERE resolution = 'hour')
                    GROUP BY 1, 2, 3, 4;
                -- What the schedule needs of a resource's history without reading it again.
                ALTER TABLE forecast ADD COLUMN fastest_growth REAL NOT NULL DEFAULT 0;
                ALTER TABLE forecast ADD COLUMN largest_rise REAL NOT NULL DEFAULT 0;
                -- When periodic whole-history work (the full prune) last ran.
                CREATE TABLE maintenance (
                    task TEXT PRIMARY KEY NOT NULL,
                    last_run REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v8-folder-reading") { db in
            try db.execute(sql: """
                -- When the account's folders were last read: a quota-only reading (bulk
                -- quota) moves last_success but not this, so its folders stay shown.
                ALTER TABLE account ADD COLUMN last_folders_at REAL;
                UPDATE account SET last_folders_at = last_success;
                """)
        }
        migrator.registerMigration("v9-server-health") { db in
            try db.execute(sql: """
                -- Each server endpoint's health after the latest pass that reached it: the TLS
                -- session and certificate of its connections, login latency, capabilities.
                CREATE TABLE server_health (
                    server TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    checked_at REAL NOT NULL,
                    tls_version TEXT,
                    cipher TEXT,
                    cert_not_after REAL,
                    chain_not_after REAL,
                    cert_subject TEXT,
                    cert_issuer TEXT,
                    cert_sans TEXT,
                    tls_failures INTEGER NOT NULL,
                    tls_failure TEXT,
                    logins INTEGER NOT NULL,
                    login_seconds_sum REAL NOT NULL,
                    login_p50 REAL, login_p90 REAL, login_p99 REAL, login_max REAL,
                    capabilities TEXT NOT NULL,
                    capabilities_changed_at REAL,
                    PRIMARY KEY (server, endpoint)
                );
                """)
        }
        migrator.registerMigration("v10-compact-series") { db in
            try db.execute(sql: """
                -- The hourly series as one row per resource (see HourlySeries): a forecast
                -- reads one blob, not 336 rows. Derived data: a missing or unreadable row is
                -- rebuilt from quota_sample and the hourly roll-ups.
                CREATE TABLE quota_series (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    last_hour INTEGER NOT NULL,
                    points BLOB NOT NULL,
                    PRIMARY KEY (account_id, root, resource)
                );
                """)
            try buildSeries(db, from: """
                SELECT account_id, root, resource, hour, usage, "limit" FROM quota_hourly ORDER BY account_id, root, resource, hour
                """)
            try db.execute(sql: "DROP TABLE quota_hourly")
        }
        migrator.registerMigration("v11-bulk-reading") { db in
            try db.execute(sql: """
                -- When each bulk quota source (a doveadm HTTP API) last answered: a reading
                -- every N passes needs to know the last one. Written with the run it fed.
                CREATE TABLE bulk_reading (
                    source TEXT PRIMARY KEY,
                    read_at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v12-unknown-folder-size") { db in
            // SQLite cannot drop a NOT NULL: the table is rebuilt, rows and key unchanged.
            try db.execute(sql: """
                -- A folder whose size could not be represented (its messages add up past
                -- 2^63-1 bytes) is stored with size_bytes NULL: unknown, never a made-up maximum.
                CREATE TABLE folder_sample_v12 (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    raw_name TEXT NOT NULL,
                    special_use TEXT NOT NULL,
                    messages INTEGER NOT NULL,
                    size_bytes INTEGER,
                    PRIMARY KEY (account_id, at, raw_name)
                );
                INSERT INTO folder_sample_v12 SELECT account_id, at, run_id, name, raw_name, special_use, messages,
                    -- Earlier versions held an unrepresentable sum at 2^63-1: that was never a size.
                    NULLIF(size_bytes, 9223372036854775807) FROM folder_sample;
                DROP TABLE folder_sample;
                ALTER TABLE folder_sample_v12 RENAME TO folder_sample;
                """)
        }
        migrator.registerMigration("v13-bulk-reading-origin") { db in
            // Sources were full URLs (a token in one would sit in a database the mailgauge
            // group reads); now the origin every output shows. Forgetting the times costs
            // one doveadm reading on the next pass.
            try db.execute(sql: "DELETE FROM bulk_reading")
        }
        return migrator
    }
}
