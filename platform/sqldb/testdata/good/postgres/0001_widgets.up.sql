CREATE TABLE widgets (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE parts (
    id        BIGINT PRIMARY KEY,
    widget_id TEXT NOT NULL REFERENCES widgets (id)
);
