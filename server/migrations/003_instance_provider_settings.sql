-- Per-instance provider settings: a JSON object whose shape each provider defines
-- (base URL, API key or token, webhook secret, …). Secrets among them are kept here, in the protected
-- database, and never logged or returned by the API or the CLI after the instance is created.
ALTER TABLE instances ADD COLUMN provider_settings TEXT NOT NULL DEFAULT '{}';
