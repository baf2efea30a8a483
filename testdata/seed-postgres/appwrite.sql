-- Seed data for dr's PostgreSQL test stack, in the shape of Appwrite's
-- PostgreSQL schema: per-collection tables with _id/_uid/_createdAt/
-- _updatedAt/_permissions and a *_perms twin table. It runs once, from
-- /docker-entrypoint-initdb.d, on an empty data directory, connected to
-- the `appwrite` database as its owner.
--
-- The row counts are deterministic; internal/teststack/seed.go lists them
-- (SeedPostgresRows) and a test checks the two agree. Change both together.

SET client_min_messages = warning;

-- _console_projects: 20 rows, _console_projects_perms: 40 rows ------------

CREATE TABLE "_console_projects" (
  "_id" bigserial PRIMARY KEY,
  "_uid" varchar(255) NOT NULL UNIQUE,
  "_createdAt" timestamp(3),
  "_updatedAt" timestamp(3),
  "_permissions" text,
  "name" varchar(256),
  "teamId" varchar(255),
  "search" text
);
CREATE INDEX "_console_projects_created_at" ON "_console_projects" ("_createdAt");

CREATE TABLE "_console_projects_perms" (
  "_id" bigserial PRIMARY KEY,
  "_type" varchar(12) NOT NULL,
  "_permission" varchar(255) NOT NULL,
  "_document" varchar(255) NOT NULL,
  UNIQUE ("_document", "_type", "_permission")
);

INSERT INTO "_console_projects" ("_uid", "_createdAt", "_updatedAt", "_permissions", "name", "teamId", "search")
SELECT 'project' || lpad(seq::text, 4, '0'),
       timestamp '2024-01-01 00:00:00' + seq * interval '1 hour' + (seq * 7 % 1000) * interval '1 millisecond',
       timestamp '2024-06-01 00:00:00' + seq * interval '1 hour',
       '["read(\"any\")","update(\"team:t1\")"]',
       (ARRAY['Zoë''s shop', '山田プロジェクト', '🚀 Launchpad', 'Ñandú "quoted"', 'back\slash'])[1 + seq % 5],
       'team' || (seq % 3),
       'project' || seq
FROM generate_series(1, 20) seq;

INSERT INTO "_console_projects_perms" ("_type", "_permission", "_document")
SELECT t.type, CASE t.type WHEN 'read' THEN 'any' ELSE 'team:t1' END, 'project' || lpad(s::text, 4, '0')
FROM generate_series(1, 20) s CROSS JOIN (VALUES ('read'), ('update')) t(type);

-- _1_users: 1000 rows, _1_users_perms: 2000 rows ---------------------------

CREATE TABLE "_1_users" (
  "_id" bigserial PRIMARY KEY,
  "_uid" varchar(255) NOT NULL UNIQUE,
  "_createdAt" timestamp(3),
  "_updatedAt" timestamp(3),
  "_permissions" text,
  "name" varchar(2048),
  "email" varchar(320) UNIQUE,
  "status" boolean,
  "password" text,
  "prefs" jsonb,
  "avatar" bytea
);

CREATE TABLE "_1_users_perms" (LIKE "_console_projects_perms" INCLUDING ALL);

-- The avatar holds bytes that trip naive dump handling: NUL, quotes,
-- backslash, CR/LF, tab and Ctrl-Z, then 32 bytes of SHA-256 output; the
-- name holds a tab and a newline, which COPY escapes.
INSERT INTO "_1_users" ("_uid", "_createdAt", "_updatedAt", "_permissions", "name", "email", "status", "password", "prefs", "avatar")
SELECT 'user' || lpad(seq::text, 6, '0'),
       timestamp '2024-01-01 00:00:00' + seq * interval '1 minute' + (seq % 1000) * interval '1 millisecond',
       timestamp '2024-03-01 00:00:00' + seq * interval '1 minute',
       '["read(\"user:user' || lpad(seq::text, 6, '0') || '\")"]',
       (ARRAY['Zoë', '山田太郎', '김민준', '🦄 Unicorn', 'O''Brien', E'tab\there', E'two\nlines'])[1 + seq % 7] || ' #' || seq,
       'user' || seq || '@example.test',
       seq % 2 = 1,
       '$argon2id$v=19$m=2048,t=4,p=3$' || encode(sha256(('salt' || seq)::bytea), 'hex'),
       jsonb_build_object('theme', CASE WHEN seq % 2 = 1 THEN 'dark' ELSE 'light' END, 'lang', (ARRAY['en', 'ja', 'de'])[1 + seq % 3], 'emoji', '🎉', 'n', seq),
       '\x00275c220d0a091a'::bytea || sha256(seq::text::bytea)
FROM generate_series(1, 1000) seq;

INSERT INTO "_1_users_perms" ("_type", "_permission", "_document")
SELECT t.type, 'user:user' || lpad(s::text, 6, '0'), 'user' || lpad(s::text, 6, '0')
FROM generate_series(1, 1000) s CROSS JOIN (VALUES ('read'), ('update')) t(type);

-- _1_sessions: 2500 rows, _1_sessions_perms: 2500 rows ---------------------

CREATE TABLE "_1_sessions" (
  "_id" bigserial PRIMARY KEY,
  "_uid" varchar(255) NOT NULL UNIQUE,
  "_createdAt" timestamp(3),
  "_updatedAt" timestamp(3),
  "_permissions" text,
  "userInternalId" varchar(255),
  "userId" varchar(255),
  "provider" varchar(128),
  "secret" varchar(512),
  "userAgent" text,
  "expire" timestamp(3)
);
CREATE INDEX "_1_sessions_key_user" ON "_1_sessions" ("userInternalId");

CREATE TABLE "_1_sessions_perms" (LIKE "_console_projects_perms" INCLUDING ALL);

INSERT INTO "_1_sessions" ("_uid", "_createdAt", "_updatedAt", "_permissions", "userInternalId", "userId", "provider", "secret", "userAgent", "expire")
SELECT 'session' || lpad(seq::text, 6, '0'),
       timestamp '2024-02-01 00:00:00' + seq * interval '1 minute',
       timestamp '2024-02-01 00:00:00' + seq * interval '1 minute',
       '[]',
       (1 + seq % 1000)::text,
       'user' || lpad((1 + seq % 1000)::text, 6, '0'),
       (ARRAY['email', 'anonymous', 'github'])[1 + seq % 3],
       encode(sha512(('secret' || seq)::bytea), 'hex'),
       'Mozilla/5.0 (X11; Linux x86_64) "dr-test"',
       timestamp '2025-02-01 00:00:00' + seq * interval '1 minute'
FROM generate_series(1, 2500) seq;

INSERT INTO "_1_sessions_perms" ("_type", "_permission", "_document")
SELECT 'read', 'user:user' || lpad((1 + seq % 1000)::text, 6, '0'), 'session' || lpad(seq::text, 6, '0')
FROM generate_series(1, 2500) seq;

-- _1_database_1_collection_1: 1500 rows, its _perms: 3000 rows -------------

CREATE TABLE "_1_database_1_collection_1" (
  "_id" bigserial PRIMARY KEY,
  "_uid" varchar(255) NOT NULL UNIQUE,
  "_createdAt" timestamp(3),
  "_updatedAt" timestamp(3),
  "_permissions" text,
  "title" varchar(1024),
  "body" text,
  "price" numeric(12, 2),
  "data" jsonb
);

CREATE TABLE "_1_database_1_collection_1_perms" (LIKE "_console_projects_perms" INCLUDING ALL);

INSERT INTO "_1_database_1_collection_1" ("_uid", "_createdAt", "_updatedAt", "_permissions", "title", "body", "price", "data")
SELECT 'doc' || lpad(seq::text, 6, '0'),
       timestamp '2024-04-01 00:00:00' + seq * interval '1 second' + (seq % 997) * interval '1 millisecond',
       timestamp '2024-04-02 00:00:00' + seq * interval '1 second',
       '["read(\"any\")","write(\"users\")"]',
       (ARRAY['Café crème', '東京の天気', '✨ sparkle ✨', 'semi;colon -- not a comment'])[1 + seq % 4] || ' ' || seq,
       repeat('Lorem ipsum dolor sit amet, ', 1 + seq % 20) || E'\n' || E'line two\ttabbed\r\n' || E'\\.\n' || 'end',
       (seq * 137 % 100000) / 100.0,
       jsonb_build_object('n', seq, 'tags', jsonb_build_array('a', 't' || (seq % 7)), 'nested', jsonb_build_object('ok', seq % 2 = 0, 'text', 'naïve "json" \ value'))
FROM generate_series(1, 1500) seq;

INSERT INTO "_1_database_1_collection_1_perms" ("_type", "_permission", "_document")
SELECT t.type, t.perm, 'doc' || lpad(s::text, 6, '0')
FROM generate_series(1, 1500) s CROSS JOIN (VALUES ('read', 'any'), ('write', 'users')) t(type, perm);

-- _1_abuse: 50 rows, unlogged as Appwrite's abuse table could be: not
-- crash-safe, in the dump all the same.

CREATE UNLOGGED TABLE "_1_abuse" (
  "_id" bigserial PRIMARY KEY,
  "key" varchar(255) NOT NULL,
  "time" timestamp(3) NOT NULL,
  "count" integer NOT NULL,
  UNIQUE ("key", "time")
);

INSERT INTO "_1_abuse" ("key", "time", "count")
SELECT 'url:/v1/account/sessions,ip:127.0.0.' || seq, timestamp '2024-05-01 00:00:00' + seq * interval '1 minute', seq % 10
FROM generate_series(1, 50) seq;

-- A view, a function, a procedure and a trigger, so a dump or an import
-- that loses one is caught by the restore tests.

CREATE VIEW "active_sessions" AS
  SELECT s."_uid" AS session, u."_uid" AS "user", u."email", s."expire"
  FROM "_1_sessions" s JOIN "_1_users" u ON u."_uid" = s."userId"
  WHERE s."provider" <> 'anonymous';

CREATE FUNCTION "_1_users_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."_updatedAt" = now();
  RETURN NEW;
END
$$;

CREATE TRIGGER "_1_users_touch" BEFORE UPDATE ON "_1_users"
  FOR EACH ROW EXECUTE FUNCTION "_1_users_touch"();

CREATE PROCEDURE "count_sessions"(user_uid varchar, INOUT total integer)
LANGUAGE sql AS $$
  SELECT count(*)::integer FROM "_1_sessions" WHERE "userId" = user_uid;
$$;

CREATE FUNCTION "user_label"(user_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT "name" || ' <' || "email" || '>' FROM "_1_users" WHERE "_id" = user_id;
$$;

-- A second database, so "all databases" means more than one. ------------

CREATE DATABASE "appwrite_logs";
\connect appwrite_logs

CREATE TYPE "level" AS ENUM ('debug', 'info', 'warning', 'error');

CREATE TABLE "logs" (
  "id" bigserial PRIMARY KEY,
  "time" timestamp(3) NOT NULL,
  "level" "level" NOT NULL,
  "message" text NOT NULL
);
CREATE INDEX "logs_time" ON "logs" ("time");

INSERT INTO "logs" ("time", "level", "message")
SELECT timestamp '2024-07-01 00:00:00' + seq * interval '1 second',
       (ARRAY['debug', 'info', 'warning', 'error'])[1 + seq % 4]::"level",
       'request ' || seq || ' → ' || (ARRAY['ok ✅', 'slow 🐢', 'failed ❌'])[1 + seq % 3]
FROM generate_series(1, 800) seq;
