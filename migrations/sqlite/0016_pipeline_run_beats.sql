-- A run going on says how far it is, and that it is still alive, every second (`progress`, the
-- steps so far as JSON; `beat_at`), so every instance shows it; a cancel asked on any instance is
-- recorded here (`cancel_asked_at`, `cancel_asked_by`) and seen by the instance running it at its
-- next beat. A run whose beats stopped (its server died) is ended by the next server that looks.

ALTER TABLE pipeline_runs ADD COLUMN progress TEXT;
ALTER TABLE pipeline_runs ADD COLUMN beat_at TEXT;
ALTER TABLE pipeline_runs ADD COLUMN cancel_asked_at TEXT;
ALTER TABLE pipeline_runs ADD COLUMN cancel_asked_by INTEGER REFERENCES users (id);
