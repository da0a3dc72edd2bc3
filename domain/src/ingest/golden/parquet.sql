-- Snowflake: 2 file(s), 268435456 bytes, parquet from s3://mcms-lake/players/
CREATE FILE FORMAT IF NOT EXISTS players_format
  TYPE = PARQUET
  USE_VECTORIZED_SCANNER = TRUE;

CREATE STAGE IF NOT EXISTS players_stage
  URL = 's3://mcms-lake/players/'
  STORAGE_INTEGRATION = s3_integration
  FILE_FORMAT = players_format;

CREATE TABLE IF NOT EXISTS players
  USING TEMPLATE (
    SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) WITHIN GROUP (ORDER BY order_id)
    FROM TABLE(INFER_SCHEMA(LOCATION => '@players_stage', FILE_FORMAT => 'players_format', IGNORE_CASE => TRUE))
  );

COPY INTO players
  FROM @players_stage
  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
  ON_ERROR = ABORT_STATEMENT;

-- Redshift: 2 file(s), 268435456 bytes, parquet from s3://mcms-lake/players/
CREATE TABLE IF NOT EXISTS players (
  player_id VARCHAR(65535) NOT NULL,
  level INTEGER NOT NULL,
  spend DECIMAL(18, 2),
  seen_at TIMESTAMPTZ NOT NULL,
  country VARCHAR(65535)
);

COPY players
  FROM 's3://mcms-lake/players/players.manifest'
  IAM_ROLE 'arn:aws:iam::123456789012:role/redshift-copy'
  MANIFEST
  FORMAT AS PARQUET
  STATUPDATE ON;

-- manifest (players.manifest)
{
  "entries": [
    {
      "mandatory": true,
      "meta": {
        "content_length": 134217728
      },
      "url": "s3://mcms-lake/players/part-0.parquet"
    },
    {
      "mandatory": true,
      "meta": {
        "content_length": 134217728
      },
      "url": "s3://mcms-lake/players/part-1.parquet"
    }
  ]
}

-- notes
-- Redshift maps Parquet columns by position: the table's columns are in the files' order, and every file must have them all.
-- Some files lack columns others have: Redshift's Parquet COPY fails on them (column counts must match); rewrite them to one layout first.
