-- Snowflake: 1 file(s), 52428800 bytes, csv from s3://mcms-lake/players/
CREATE FILE FORMAT IF NOT EXISTS raw.players_format
  TYPE = CSV
  FIELD_DELIMITER = ','
  PARSE_HEADER = TRUE
  FIELD_OPTIONALLY_ENCLOSED_BY = '"'
  EMPTY_FIELD_AS_NULL = TRUE
  NULL_IF = ('\\N')
  ENCODING = 'EUCKR'
  COMPRESSION = GZIP;

CREATE STAGE IF NOT EXISTS raw.players_stage
  URL = 's3://mcms-lake/players/'
  STORAGE_INTEGRATION = s3_integration
  FILE_FORMAT = raw.players_format;

CREATE TABLE IF NOT EXISTS raw.players
  USING TEMPLATE (
    SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) WITHIN GROUP (ORDER BY order_id)
    FROM TABLE(INFER_SCHEMA(LOCATION => '@raw.players_stage', FILE_FORMAT => 'raw.players_format', IGNORE_CASE => TRUE))
  );

COPY INTO raw.players
  FROM @raw.players_stage
  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
  ON_ERROR = SKIP_FILE;

-- Redshift: 1 file(s), 52428800 bytes, csv from s3://mcms-lake/players/
CREATE TABLE IF NOT EXISTS raw.players (
  player_id VARCHAR(16) NOT NULL,
  "게임" VARCHAR(16) NOT NULL,
  level SMALLINT NOT NULL,
  spend_krw DECIMAL(18, 2),
  joined DATE NOT NULL,
  "order" SMALLINT NOT NULL
);

COPY raw.players
  FROM 's3://mcms-lake/players/players.manifest'
  IAM_ROLE 'arn:aws:iam::123456789012:role/redshift-copy'
  MANIFEST
  FORMAT AS CSV
  DELIMITER ','
  IGNOREHEADER 1
  EMPTYASNULL
  NULL AS '\\N'
  DATEFORMAT 'auto'
  TIMEFORMAT 'auto'
  GZIP
  STATUPDATE ON;

-- manifest (players.manifest)
{
  "entries": [
    {
      "mandatory": true,
      "meta": {
        "content_length": 52428800
      },
      "url": "s3://mcms-lake/players/2026/12/players-1.csv.gz"
    }
  ]
}

-- notes
-- CP949: Snowflake reads it as EUCKR, which lacks the Hangul syllables only CP949 has; rewriting the files as UTF-8 (mcms ingest split) avoids the question.
-- CP949: Redshift's COPY reads UTF-8 and UTF-16 only; rewrite the files as UTF-8 first (mcms ingest split).
-- Redshift: CSV columns load by position, in the order of the header.
-- Redshift has no SKIP_FILE: its COPY aborts on the first bad row (MAXERROR 0).
