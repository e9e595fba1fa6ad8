"""Schema migrations: entry N brings the database to ``PRAGMA user_version`` N.

Never edit a migration that has shipped; append a new one. Each runs in one transaction.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

_JOB_STATES = (
    "'queued', 'submitting', 'running', 'downloading', 'done', 'failed', 'cancelled', 'unknown'"
)

MIGRATIONS: list[list[str]] = [
    # 1: prompts, accounts, requests, jobs, takes, duels
    [
        """CREATE TABLE prompt (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            archived INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE prompt_version (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompt(id),
            number INTEGER NOT NULL,
            text TEXT NOT NULL,
            negative TEXT NOT NULL DEFAULT '',
            variables TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            UNIQUE (prompt_id, number)
        )""",
        # A take must always point at the exact words that made it.
        """CREATE TRIGGER prompt_version_immutable BEFORE UPDATE ON prompt_version
           BEGIN SELECT RAISE(ABORT, 'prompt versions are immutable'); END""",
        """CREATE TABLE tag (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE
        )""",
        """CREATE TABLE prompt_tag (
            prompt_id INTEGER NOT NULL REFERENCES prompt(id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
            PRIMARY KEY (prompt_id, tag_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE account (
            id INTEGER PRIMARY KEY,
            vendor TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('api', 'web')),
            plan TEXT,
            timezone TEXT,
            region TEXT NOT NULL DEFAULT 'default',
            base_url TEXT,
            created_at REAL NOT NULL,
            UNIQUE (vendor, name)
        )""",
        """CREATE TABLE request (
            id INTEGER PRIMARY KEY,
            prompt_version_id INTEGER REFERENCES prompt_version(id),
            prompt TEXT NOT NULL,
            params TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
        f"""CREATE TABLE job (
            id INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES request(id),
            vendor TEXT NOT NULL,
            model TEXT NOT NULL,
            account_id INTEGER REFERENCES account(id),
            state TEXT NOT NULL CHECK (state IN ({_JOB_STATES})),
            client_request_id TEXT NOT NULL UNIQUE,
            vendor_task_id TEXT,
            task_data TEXT,
            vendor_state TEXT,
            progress REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_poll_at REAL,
            results TEXT,
            estimate TEXT,
            cost_actual REAL,
            error_kind TEXT,
            error TEXT,
            owner TEXT,
            created_at REAL NOT NULL,
            submitted_at REAL,
            finished_at REAL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX job_request ON job(request_id)",
        """CREATE INDEX job_active ON job(state)
           WHERE state NOT IN ('done', 'failed', 'cancelled')""",
        """CREATE TABLE take (
            id INTEGER PRIMARY KEY,
            job_id INTEGER UNIQUE REFERENCES job(id),
            request_id INTEGER REFERENCES request(id),
            vendor TEXT NOT NULL,
            model TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            path TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            duration_s REAL NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            fps REAL NOT NULL,
            video_codec TEXT NOT NULL,
            has_audio INTEGER NOT NULL,
            verdict TEXT NOT NULL DEFAULT 'unrated'
                CHECK (verdict IN ('usable', 'reject', 'unrated')),
            stars INTEGER CHECK (stars BETWEEN 1 AND 5),
            reasons TEXT NOT NULL DEFAULT '[]',
            notes TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'generated' CHECK (source IN ('generated', 'imported')),
            original_name TEXT,
            created_at REAL NOT NULL,
            rated_at REAL
        )""",
        "CREATE INDEX take_filter ON take(vendor, verdict, created_at)",
        "CREATE INDEX take_model ON take(model, verdict)",
        "CREATE INDEX take_created ON take(created_at)",
        "CREATE INDEX take_request ON take(request_id)",
        "CREATE INDEX take_sha ON take(sha256)",
        """CREATE TABLE duel (
            id INTEGER PRIMARY KEY,
            request_id INTEGER REFERENCES request(id),
            take_a INTEGER NOT NULL REFERENCES take(id),
            take_b INTEGER NOT NULL REFERENCES take(id),
            winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
            created_at REAL NOT NULL
        )""",
    ],
    # 2: memberships and credits: grant rules, buckets, an append-only ledger, budgets,
    # and manual (web-only) jobs
    [
        "ALTER TABLE account ADD COLUMN unit TEXT",
        "ALTER TABLE account ADD COLUMN money_per_unit REAL",
        "ALTER TABLE account ADD COLUMN closed_at REAL",
        "ALTER TABLE account ADD COLUMN closed_reason TEXT",
        "ALTER TABLE job ADD COLUMN manual INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE grant_rule (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES account(id),
            key TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('daily_free', 'monthly', 'top_up', 'promo', 'bonus', 'one_time')),
            amount REAL,
            period TEXT NOT NULL CHECK (period IN ('daily', 'monthly', 'once')),
            reset_time TEXT NOT NULL DEFAULT '00:00',
            timezone TEXT,
            renewal_day INTEGER,
            expires TEXT NOT NULL DEFAULT 'end_of_period',
            requires TEXT NOT NULL DEFAULT 'none',
            starts_at REAL NOT NULL,
            ends_at REAL,
            source TEXT NOT NULL DEFAULT '',
            UNIQUE (account_id, key)
        )""",
        """CREATE TABLE credit_bucket (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES account(id),
            kind TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            amount REAL NOT NULL,
            granted_at REAL NOT NULL,
            expires_at REAL,
            rule_id INTEGER REFERENCES grant_rule(id),
            period TEXT,
            -- 1 once its unspent rest was written off by an 'expire' ledger entry; lets
            -- each pass look only at buckets that lapsed since the last one.
            expired INTEGER NOT NULL DEFAULT 0,
            UNIQUE (rule_id, period)
        )""",
        "CREATE INDEX bucket_account ON credit_bucket(account_id, expires_at)",
        "CREATE INDEX bucket_rule ON credit_bucket(rule_id, granted_at)",
        """CREATE INDEX bucket_lapsing ON credit_bucket(expires_at)
           WHERE expired = 0 AND expires_at IS NOT NULL""",
        """CREATE TABLE ledger (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES account(id),
            bucket_id INTEGER REFERENCES credit_bucket(id),
            job_id INTEGER REFERENCES job(id),
            kind TEXT NOT NULL CHECK (kind IN
                ('grant', 'reserve', 'capture', 'release', 'expire', 'adjust', 'observe')),
            amount REAL NOT NULL DEFAULT 0,
            at REAL NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            observed REAL,
            computed REAL
        )""",
        "CREATE INDEX ledger_bucket ON ledger(bucket_id, amount)",
        "CREATE INDEX ledger_account ON ledger(account_id, kind, at)",
        "CREATE INDEX ledger_job ON ledger(job_id)",
        # Append-only: history is corrected by new entries, never by edits.
        """CREATE TRIGGER ledger_append_only BEFORE UPDATE ON ledger
           BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
        """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
           BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
        """CREATE TABLE budget (
            id INTEGER PRIMARY KEY,
            account_id INTEGER REFERENCES account(id),
            tag TEXT,
            period TEXT NOT NULL CHECK (period IN ('day', 'month', 'total')),
            cap REAL NOT NULL,
            CHECK ((account_id IS NULL) != (tag IS NULL))
        )""",
    ],
    # 3: "newest first" within one vendor or model without sorting every match
    [
        "CREATE INDEX take_vendor_created ON take(vendor, created_at)",
        "CREATE INDEX take_model_created ON take(model, created_at)",
    ],
    # 4: the reasons a take is rejected (or kept): a list the user extends, seeded with
    # core/reasons.py's DEFAULT_REASONS as they were when this shipped; and an index so
    # that the library filters by a prompt's tag without scanning every request
    [
        """CREATE TABLE reason (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            position INTEGER NOT NULL
        )""",
        """INSERT INTO reason(name, position) VALUES
            ('morphing', 1), ('physics', 2), ('hands', 3), ('faces', 4), ('text', 5),
            ('lip sync', 6), ('audio', 7), ('prompt ignored', 8), ('camera', 9),
            ('flicker', 10), ('artefacts', 11), ('style', 12)""",
        "CREATE INDEX request_version ON request(prompt_version_id)",
    ],
    # 5: credits some surfaces may not spend (Kling's bonus credits: not from its API)
    [
        "ALTER TABLE credit_bucket ADD COLUMN usable_on TEXT",
    ],
    # 6: the account a target without one uses, where a vendor has several; a tag budget's
    # unit; and the price a user gave for a model of a web membership whose site
    # publishes none (asked once, remembered per model)
    [
        "ALTER TABLE account ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0",
        # a tag's budget counts in one unit (money unless told), never a sum of units
        "ALTER TABLE budget ADD COLUMN unit TEXT",
        """CREATE TABLE web_price (
            vendor TEXT NOT NULL,
            model TEXT NOT NULL,
            unit TEXT NOT NULL,
            per_take REAL NOT NULL,
            set_at REAL NOT NULL,
            PRIMARY KEY (vendor, model, unit)
        )""",
    ],
]
