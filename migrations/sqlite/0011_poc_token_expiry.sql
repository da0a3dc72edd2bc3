-- PoC tokens can expire; a token without an expiry works until revoked.
ALTER TABLE poc_tokens ADD COLUMN expires_at TEXT;
