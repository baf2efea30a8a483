--
-- PostgreSQL database cluster dump
--

\restrict g4PHowsx2E2qz58w5tGBEFVAwy8E87cgQnDjVK8buU2SMzNqebzGvp5NK2UOdyL

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE appw;
ALTER ROLE appw WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;

--
-- User Configurations
--








\unrestrict g4PHowsx2E2qz58w5tGBEFVAwy8E87cgQnDjVK8buU2SMzNqebzGvp5NK2UOdyL

--
-- PostgreSQL database cluster dump complete
--

--
-- PostgreSQL database dump
--

\restrict mIDjxCcbWomt3F9voQo6gB3ndaB2h0lQnozSaQ2YVqkpqgaD0KcmpgYvy9Rg9hT

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: appwrite; Type: DATABASE; Schema: -; Owner: appw
--

CREATE DATABASE "appwrite" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';


ALTER DATABASE "appwrite" OWNER TO "appw";

\unrestrict mIDjxCcbWomt3F9voQo6gB3ndaB2h0lQnozSaQ2YVqkpqgaD0KcmpgYvy9Rg9hT
\connect "appwrite"
\restrict mIDjxCcbWomt3F9voQo6gB3ndaB2h0lQnozSaQ2YVqkpqgaD0KcmpgYvy9Rg9hT

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: appw
--

CREATE SCHEMA "app";


ALTER SCHEMA "app" OWNER TO "appw";

--
-- Name: SCHEMA "public"; Type: COMMENT; Schema: -; Owner: pg_database_owner
--

COMMENT ON SCHEMA "public" IS 'standard public schema';


--
-- Name: amcheck; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS "amcheck" WITH SCHEMA "public";


--
-- Name: EXTENSION "amcheck"; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION "amcheck" IS 'functions for verifying relation integrity';


--
-- Name: p(); Type: PROCEDURE; Schema: app; Owner: appw
--

CREATE PROCEDURE "app"."p"()
    LANGUAGE "sql"
    AS $$ select 1 $$;


ALTER PROCEDURE "app"."p"() OWNER TO "appw";

--
-- Name: f(integer); Type: FUNCTION; Schema: public; Owner: appw
--

CREATE FUNCTION "public"."f"("a" integer) RETURNS integer
    LANGUAGE "sql"
    AS $$ select a $$;


ALTER FUNCTION "public"."f"("a" integer) OWNER TO "appw";

--
-- Name: f("text"); Type: FUNCTION; Schema: public; Owner: appw
--

CREATE FUNCTION "public"."f"("a" "text") RETURNS "text"
    LANGUAGE "sql"
    AS $$ select a $$;


ALTER FUNCTION "public"."f"("a" "text") OWNER TO "appw";

--
-- Name: tf(); Type: FUNCTION; Schema: public; Owner: appw
--

CREATE FUNCTION "public"."tf"() RETURNS "trigger"
    LANGUAGE "plpgsql"
    AS $$
begin
-- Name: fake; Type: TABLE; Schema: public; Owner: x
return new; end$$;


ALTER FUNCTION "public"."tf"() OWNER TO "appw";

SET default_tablespace = '';

SET default_table_access_method = "heap";

--
-- Name: odd name; Type: TABLE; Schema: app; Owner: appw
--

CREATE TABLE "app"."odd name" (
    "id" integer NOT NULL,
    "b" "bytea"
);


ALTER TABLE "app"."odd name" OWNER TO "appw";

--
-- Name: odd name_id_seq; Type: SEQUENCE; Schema: app; Owner: appw
--

CREATE SEQUENCE "app"."odd name_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE "app"."odd name_id_seq" OWNER TO "appw";

--
-- Name: odd name_id_seq; Type: SEQUENCE OWNED BY; Schema: app; Owner: appw
--

ALTER SEQUENCE "app"."odd name_id_seq" OWNED BY "app"."odd name"."id";


--
-- Name: empty; Type: TABLE; Schema: public; Owner: appw
--

CREATE TABLE "public"."empty" (
    "x" integer
);


ALTER TABLE "public"."empty" OWNER TO "appw";

--
-- Name: t; Type: TABLE; Schema: public; Owner: appw
--

CREATE TABLE "public"."t" (
    "id" integer NOT NULL,
    "s" "text"
);


ALTER TABLE "public"."t" OWNER TO "appw";

--
-- Name: mv; Type: MATERIALIZED VIEW; Schema: public; Owner: appw
--

CREATE MATERIALIZED VIEW "public"."mv" AS
 SELECT "count"(*) AS "count"
   FROM "public"."t"
  WITH NO DATA;


ALTER TABLE "public"."mv" OWNER TO "appw";

--
-- Name: v; Type: VIEW; Schema: public; Owner: appw
--

CREATE VIEW "public"."v" AS
 SELECT "t"."id",
    "t"."s"
   FROM "public"."t";


ALTER TABLE "public"."v" OWNER TO "appw";

--
-- Name: odd name id; Type: DEFAULT; Schema: app; Owner: appw
--

ALTER TABLE ONLY "app"."odd name" ALTER COLUMN "id" SET DEFAULT "nextval"('"app"."odd name_id_seq"'::"regclass");


--
-- Data for Name: odd name; Type: TABLE DATA; Schema: app; Owner: appw
--

COPY "app"."odd name" ("id", "b") FROM stdin;
1	\\x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
2	\\x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
3	\\x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
4	\\x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
5	\\x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
\.


--
-- Data for Name: empty; Type: TABLE DATA; Schema: public; Owner: appw
--

COPY "public"."empty" ("x") FROM stdin;
\.


--
-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: appw
--

COPY "public"."t" ("id", "s") FROM stdin;
1	a\tb\nc
2	\N
3	\\.
4	-- PostgreSQL database dump complete
\.


--
-- Name: odd name_id_seq; Type: SEQUENCE SET; Schema: app; Owner: appw
--

SELECT pg_catalog.setval('"app"."odd name_id_seq"', 5, true);


--
-- Name: odd name odd name_pkey; Type: CONSTRAINT; Schema: app; Owner: appw
--

ALTER TABLE ONLY "app"."odd name"
    ADD CONSTRAINT "odd name_pkey" PRIMARY KEY ("id");


--
-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: appw
--

ALTER TABLE ONLY "public"."t"
    ADD CONSTRAINT "t_pkey" PRIMARY KEY ("id");


--
-- Name: odd name trg two; Type: TRIGGER; Schema: app; Owner: appw
--

CREATE TRIGGER "trg two" BEFORE UPDATE ON "app"."odd name" FOR EACH ROW EXECUTE FUNCTION "public"."tf"();


--
-- Name: t trg; Type: TRIGGER; Schema: public; Owner: appw
--

CREATE TRIGGER "trg" BEFORE INSERT ON "public"."t" FOR EACH ROW EXECUTE FUNCTION "public"."tf"();


--
-- Name: mv; Type: MATERIALIZED VIEW DATA; Schema: public; Owner: appw
--

REFRESH MATERIALIZED VIEW "public"."mv";


--
-- PostgreSQL database dump complete
--

\unrestrict mIDjxCcbWomt3F9voQo6gB3ndaB2h0lQnozSaQ2YVqkpqgaD0KcmpgYvy9Rg9hT

