-- Version 2: who created each project (the acting user's id, as the log
-- stores actors: no foreign key, a user may go) and when (microseconds since
-- the Unix epoch, UTC), for `backfill`. Projects made before this version
-- have neither (NULL): nobody recorded them.

ALTER TABLE projects ADD COLUMN created_by BIGINT,
    ADD COLUMN created_at BIGINT;
