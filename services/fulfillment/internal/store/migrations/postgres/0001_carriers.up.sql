-- Timestamps are unix microseconds (UTC) in BIGINT columns on both dialects.
-- tracking_url_template is '' when the carrier has no tracking page.
CREATE TABLE carriers (
    code                  TEXT PRIMARY KEY,
    display_name          TEXT   NOT NULL,
    tracking_url_template TEXT   NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL
);
