-- Snowflake: 1 file(s), 171 bytes, jsonl from s3://mcms-lake/events/
CREATE FILE FORMAT IF NOT EXISTS events_format
  TYPE = JSON
  COMPRESSION = NONE;

CREATE STAGE IF NOT EXISTS events_stage
  URL = 's3://mcms-lake/events/'
  STORAGE_INTEGRATION = s3_integration
  FILE_FORMAT = events_format;

CREATE TABLE IF NOT EXISTS events (
  event_id NUMBER(38, 0) NOT NULL,
  player_id VARCHAR NOT NULL,
  at TIMESTAMP_TZ NOT NULL,
  props VARIANT,
  amount NUMBER(18, 1)
);

COPY INTO events
  FROM @events_stage
  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
  ON_ERROR = CONTINUE;

-- Redshift: 1 file(s), 171 bytes, jsonl from s3://mcms-lake/events/
CREATE TABLE IF NOT EXISTS events (
  event_id SMALLINT NOT NULL,
  player_id VARCHAR(16) NOT NULL,
  at TIMESTAMPTZ NOT NULL,
  props SUPER,
  amount DECIMAL(18, 1)
);

COPY events
  FROM 's3://mcms-lake/events/events.manifest'
  IAM_ROLE 'arn:aws:iam::123456789012:role/redshift-copy'
  MANIFEST
  FORMAT AS JSON 'auto ignorecase'
  TIMEFORMAT 'auto'
  MAXERROR 100000
  STATUPDATE ON;

-- manifest (events.manifest)
{
  "entries": [
    {
      "mandatory": true,
      "meta": {
        "content_length": 171
      },
      "url": "s3://mcms-lake/events/events.jsonl"
    }
  ]
}

-- notes

