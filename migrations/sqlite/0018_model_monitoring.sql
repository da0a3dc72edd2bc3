-- Model monitoring (docs/models.md): per version and day, requests by answer status and latency
-- bucket (quarter powers of two of microseconds) and predictions by score bin (the drift chart),
-- counted in memory and written every few seconds; and a sample of whole predictions at each
-- model's rate (default 0: partners' inputs are kept only when the data team turns it on). Nothing
-- here names a key or a caller (SQLite).

ALTER TABLE models ADD COLUMN sample_percent INTEGER NOT NULL DEFAULT 0 CHECK (sample_percent BETWEEN 0 AND 100);

CREATE TABLE model_usage (
    day      TEXT    NOT NULL,
    model_id INTEGER NOT NULL REFERENCES models (id),
    version  INTEGER NOT NULL,
    status   INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (model_id, version, day, status, bucket)
);

CREATE TABLE model_scores (
    day         TEXT    NOT NULL,
    model_id    INTEGER NOT NULL REFERENCES models (id),
    version     INTEGER NOT NULL,
    bin         INTEGER NOT NULL,
    predictions INTEGER NOT NULL,
    PRIMARY KEY (model_id, version, day, bin)
);

CREATE TABLE model_samples (
    id         INTEGER PRIMARY KEY,
    model_id   INTEGER NOT NULL REFERENCES models (id),
    version    INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    instance   TEXT    NOT NULL,   -- JSON: the instance as sent
    prediction TEXT    NOT NULL    -- JSON: the answer for it
);
CREATE INDEX model_samples_by_version ON model_samples (model_id, version, at);
