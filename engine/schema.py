"""The workspace database schema as an ordered list of migrations; PRAGMA user_version holds how many ran."""

from __future__ import annotations

# Append new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE revisions(
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        content TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE documents(
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        n_passages INTEGER NOT NULL DEFAULT 0,
        added_at REAL NOT NULL
    );
    CREATE TABLE passages(
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        text TEXT NOT NULL,
        UNIQUE(document_id, ordinal)
    );

    -- per-revision stage outputs that are not rows of their own: keywords, the
    -- retrieved passage order, the demo pattern, histograms and counters
    CREATE TABLE artifacts(
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        stage TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY(revision_id, stage, key)
    );

    CREATE TABLE samples(
        id INTEGER PRIMARY KEY,
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        origin TEXT NOT NULL CHECK(origin IN ('initial', 'harder', 'easier', 'manual')),
        parent_id INTEGER REFERENCES samples(id),
        round INTEGER NOT NULL DEFAULT 0,
        -- the resume key: 'initial:17', 'harder:1:342' ... one row per key per revision
        slot_key TEXT NOT NULL,
        passage_id INTEGER REFERENCES passages(id),
        question TEXT NOT NULL,
        generated_answer TEXT NOT NULL DEFAULT '',
        label TEXT,
        agreement REAL,
        rationale TEXT,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK(status IN ('pending', 'labelled', 'unlabelable', 'duplicate', 'contaminated')),
        content_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE(revision_id, slot_key)
    );
    CREATE INDEX samples_hash ON samples(revision_id, content_hash);
    CREATE INDEX samples_status ON samples(revision_id, status);
    CREATE INDEX samples_parent ON samples(parent_id);

    -- per-item failures are values: counted here, never retried forever
    CREATE TABLE failures(
        id INTEGER PRIMARY KEY,
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        stage TEXT NOT NULL,
        item_key TEXT NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        UNIQUE(revision_id, stage, item_key)
    );

    -- idx 0 is the generator's own answer, 1..V the instructor's votes
    CREATE TABLE votes(
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        answer TEXT,
        PRIMARY KEY(sample_id, idx)
    );

    CREATE TABLE probes(
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        text TEXT NOT NULL,
        answer TEXT,
        correct INTEGER NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY(sample_id, model)
    );

    CREATE TABLE rollouts(
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        answer TEXT,
        correct INTEGER NOT NULL,
        PRIMARY KEY(sample_id, model, idx)
    );
    -- written in the same transaction as a sample's last rollout: a sample is scored or not
    CREATE TABLE scores(
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        k INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        pass_rate REAL NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY(sample_id, model)
    );

    CREATE TABLE selections(
        id INTEGER PRIMARY KEY,
        revision_id INTEGER NOT NULL REFERENCES revisions(id),
        rule TEXT NOT NULL,
        params TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE selection_items(
        selection_id INTEGER NOT NULL REFERENCES selections(id) ON DELETE CASCADE,
        sample_id INTEGER NOT NULL REFERENCES samples(id),
        split TEXT NOT NULL CHECK(split IN ('train', 'val')),
        pass_rate REAL,
        PRIMARY KEY(selection_id, sample_id)
    );

    -- user curation; the newest decision per sample is in force, older ones are the undo history
    CREATE TABLE decisions(
        id INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        action TEXT NOT NULL CHECK(action IN ('accept', 'reject', 'pin', 'clear', 'edit')),
        question TEXT,
        answer TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX decisions_sample ON decisions(sample_id, id);

    CREATE TABLE runs(
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        pid INTEGER,
        folder TEXT NOT NULL,
        config TEXT NOT NULL,
        revision_id INTEGER REFERENCES revisions(id),
        selection_id INTEGER REFERENCES selections(id),
        base_model TEXT NOT NULL DEFAULT '',
        step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE run_metrics(
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        ts REAL NOT NULL,
        PRIMARY KEY(run_id, step, name)
    );

    CREATE TABLE evals(
        id INTEGER PRIMARY KEY,
        run_id TEXT REFERENCES runs(id),
        benchmark TEXT NOT NULL,
        model TEXT NOT NULL,
        adapter TEXT,
        n INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        accuracy REAL NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE eval_items(
        eval_id INTEGER NOT NULL REFERENCES evals(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        question TEXT NOT NULL,
        gold TEXT NOT NULL,
        prediction TEXT NOT NULL,
        answer TEXT,
        correct INTEGER NOT NULL,
        PRIMARY KEY(eval_id, idx)
    );
    """,
    # 2: jobs -- every long stage runs as a detached, supervised process (engine/jobs)
    """
    CREATE TABLE jobs(
        id TEXT PRIMARY KEY,
        stage TEXT NOT NULL,
        state TEXT NOT NULL CHECK(state IN ('queued', 'running', 'finished', 'stopped', 'failed')),
        options TEXT NOT NULL,
        folder TEXT NOT NULL,
        run_id TEXT,
        pid INTEGER,
        supervisor_pid INTEGER,
        returncode INTEGER,
        cause TEXT NOT NULL DEFAULT '',
        hint TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_stage ON jobs(stage, state);
    CREATE TABLE job_events(
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY(job_id, seq)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
