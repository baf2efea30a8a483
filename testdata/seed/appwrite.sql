-- Seed data for dr's test stack, in the shape of Appwrite's MariaDB schema:
-- per-collection tables with _id/_uid/_createdAt/_updatedAt/_permissions and
-- a *_perms twin table. It runs once, from /docker-entrypoint-initdb.d, on an
-- empty datadir, with `appwrite` as the default database.
--
-- The row counts are deterministic; internal/teststack/seed.go lists them and
-- a test checks the two agree. Change both together.

SET NAMES utf8mb4;
SET time_zone = '+00:00';

-- _console_projects: 20 rows, _console_projects_perms: 40 rows ------------

CREATE TABLE `_console_projects` (
  `_id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `_uid` varchar(255) NOT NULL,
  `_createdAt` datetime(3) DEFAULT NULL,
  `_updatedAt` datetime(3) DEFAULT NULL,
  `_permissions` mediumtext DEFAULT NULL,
  `name` varchar(256) DEFAULT NULL,
  `teamId` varchar(255) DEFAULT NULL,
  `search` text DEFAULT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_uid` (`_uid`),
  KEY `_created_at` (`_createdAt`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `_console_projects_perms` (
  `_id` int(11) NOT NULL AUTO_INCREMENT,
  `_type` varchar(12) NOT NULL,
  `_permission` varchar(255) NOT NULL,
  `_document` varchar(255) NOT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_index1` (`_document`,`_type`,`_permission`),
  KEY `_permission` (`_permission`,`_type`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO `_console_projects` (`_uid`, `_createdAt`, `_updatedAt`, `_permissions`, `name`, `teamId`, `search`)
SELECT CONCAT('project', LPAD(seq, 4, '0')),
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq HOUR + INTERVAL (seq * 7 % 1000) * 1000 MICROSECOND,
       TIMESTAMP '2024-06-01 00:00:00' + INTERVAL seq HOUR,
       '["read(\\"any\\")","update(\\"team:t1\\")"]',
       ELT(1 + seq % 5, 'Zoë''s shop', '山田プロジェクト', '🚀 Launchpad', 'Ñandú "quoted"', 'back\\slash'),
       CONCAT('team', seq % 3),
       CONCAT('project', seq)
FROM seq_1_to_20;

INSERT INTO `_console_projects_perms` (`_type`, `_permission`, `_document`)
SELECT t.type, IF(t.type = 'read', 'any', 'team:t1'), CONCAT('project', LPAD(s.seq, 4, '0'))
FROM seq_1_to_20 s CROSS JOIN (SELECT 'read' AS type UNION ALL SELECT 'update') t;

-- _1_users: 1000 rows, _1_users_perms: 2000 rows ---------------------------

CREATE TABLE `_1_users` (
  `_id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `_uid` varchar(255) NOT NULL,
  `_createdAt` datetime(3) DEFAULT NULL,
  `_updatedAt` datetime(3) DEFAULT NULL,
  `_permissions` mediumtext DEFAULT NULL,
  `name` varchar(2048) DEFAULT NULL,
  `email` varchar(320) DEFAULT NULL,
  `status` tinyint(1) DEFAULT NULL,
  `password` text DEFAULT NULL,
  `prefs` json DEFAULT NULL,
  `avatar` blob DEFAULT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_uid` (`_uid`),
  UNIQUE KEY `_key_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `_1_users_perms` (
  `_id` int(11) NOT NULL AUTO_INCREMENT,
  `_type` varchar(12) NOT NULL,
  `_permission` varchar(255) NOT NULL,
  `_document` varchar(255) NOT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_index1` (`_document`,`_type`,`_permission`),
  KEY `_permission` (`_permission`,`_type`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The avatar holds bytes that trip naive dump handling: NUL, quotes,
-- backslash, CR/LF and Ctrl-Z, then 32 bytes of SHA-256 output.
INSERT INTO `_1_users` (`_uid`, `_createdAt`, `_updatedAt`, `_permissions`, `name`, `email`, `status`, `password`, `prefs`, `avatar`)
SELECT CONCAT('user', LPAD(seq, 6, '0')),
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq MINUTE + INTERVAL (seq % 1000) * 1000 MICROSECOND,
       TIMESTAMP '2024-03-01 00:00:00' + INTERVAL seq MINUTE,
       CONCAT('["read(\\"user:user', LPAD(seq, 6, '0'), '\\")"]'),
       CONCAT(ELT(1 + seq % 6, 'Zoë', '山田太郎', '김민준', '🦄 Unicorn', 'O''Brien', 'tab\there'), ' #', seq),
       CONCAT('user', seq, '@example.test'),
       seq % 2,
       CONCAT('$argon2id$v=19$m=2048,t=4,p=3$', SHA2(CONCAT('salt', seq), 256)),
       JSON_OBJECT('theme', IF(seq % 2, 'dark', 'light'), 'lang', ELT(1 + seq % 3, 'en', 'ja', 'de'), 'emoji', '🎉', 'n', seq),
       CONCAT(0x00275C220D0A1A, UNHEX(SHA2(seq, 256)))
FROM seq_1_to_1000;

INSERT INTO `_1_users_perms` (`_type`, `_permission`, `_document`)
SELECT t.type, CONCAT('user:user', LPAD(s.seq, 6, '0')), CONCAT('user', LPAD(s.seq, 6, '0'))
FROM seq_1_to_1000 s CROSS JOIN (SELECT 'read' AS type UNION ALL SELECT 'update') t;

-- _1_sessions: 2500 rows, _1_sessions_perms: 2500 rows ---------------------

CREATE TABLE `_1_sessions` (
  `_id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `_uid` varchar(255) NOT NULL,
  `_createdAt` datetime(3) DEFAULT NULL,
  `_updatedAt` datetime(3) DEFAULT NULL,
  `_permissions` mediumtext DEFAULT NULL,
  `userInternalId` varchar(255) DEFAULT NULL,
  `userId` varchar(255) DEFAULT NULL,
  `provider` varchar(128) DEFAULT NULL,
  `secret` varchar(512) DEFAULT NULL,
  `userAgent` text DEFAULT NULL,
  `expire` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_uid` (`_uid`),
  KEY `_key_user` (`userInternalId`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `_1_sessions_perms` LIKE `_1_users_perms`;

INSERT INTO `_1_sessions` (`_uid`, `_createdAt`, `_updatedAt`, `_permissions`, `userInternalId`, `userId`, `provider`, `secret`, `userAgent`, `expire`)
SELECT CONCAT('session', LPAD(seq, 6, '0')),
       TIMESTAMP '2024-02-01 00:00:00' + INTERVAL seq MINUTE,
       TIMESTAMP '2024-02-01 00:00:00' + INTERVAL seq MINUTE,
       '[]',
       1 + seq % 1000,
       CONCAT('user', LPAD(1 + seq % 1000, 6, '0')),
       ELT(1 + seq % 3, 'email', 'anonymous', 'github'),
       SHA2(CONCAT('secret', seq), 512),
       'Mozilla/5.0 (X11; Linux x86_64) "dr-test"',
       TIMESTAMP '2025-02-01 00:00:00' + INTERVAL seq MINUTE
FROM seq_1_to_2500;

INSERT INTO `_1_sessions_perms` (`_type`, `_permission`, `_document`)
SELECT 'read', CONCAT('user:user', LPAD(1 + seq % 1000, 6, '0')), CONCAT('session', LPAD(seq, 6, '0'))
FROM seq_1_to_2500;

-- _1_database_1_collection_1: 1500 rows, its _perms: 3000 rows -------------

CREATE TABLE `_1_database_1_collection_1` (
  `_id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `_uid` varchar(255) NOT NULL,
  `_createdAt` datetime(3) DEFAULT NULL,
  `_updatedAt` datetime(3) DEFAULT NULL,
  `_permissions` mediumtext DEFAULT NULL,
  `title` varchar(1024) DEFAULT NULL,
  `body` mediumtext DEFAULT NULL,
  `price` decimal(12,2) DEFAULT NULL,
  `data` json DEFAULT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_uid` (`_uid`),
  KEY `_created_at` (`_createdAt`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `_1_database_1_collection_1_perms` LIKE `_1_users_perms`;

INSERT INTO `_1_database_1_collection_1` (`_uid`, `_createdAt`, `_updatedAt`, `_permissions`, `title`, `body`, `price`, `data`)
SELECT CONCAT('doc', LPAD(seq, 6, '0')),
       TIMESTAMP '2024-04-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 997) * 1000 MICROSECOND,
       TIMESTAMP '2024-04-02 00:00:00' + INTERVAL seq SECOND,
       '["read(\\"any\\")","write(\\"users\\")"]',
       CONCAT(ELT(1 + seq % 4, 'Café crème', '東京の天気', '✨ sparkle ✨', 'semi;colon -- not a comment'), ' ', seq),
       CONCAT(REPEAT('Lorem ipsum dolor sit amet, ', 1 + seq % 20), '\n', 'line two\ttabbed\r\n', 'end'),
       (seq * 137 % 100000) / 100,
       JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', CONCAT('t', seq % 7)), 'nested', JSON_OBJECT('ok', seq % 2 = 0, 'text', 'naïve "json" \\ value'))
FROM seq_1_to_1500;

INSERT INTO `_1_database_1_collection_1_perms` (`_type`, `_permission`, `_document`)
SELECT t.type, t.perm, CONCAT('doc', LPAD(s.seq, 6, '0'))
FROM seq_1_to_1500 s CROSS JOIN (SELECT 'read' AS type, 'any' AS perm UNION ALL SELECT 'write', 'users') t;

-- _1_abuse: 50 rows in MyISAM, so a backup has a non-InnoDB table to warn
-- about (its dump is not covered by --single-transaction).

CREATE TABLE `_1_abuse` (
  `_id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `key` varchar(255) NOT NULL,
  `time` datetime(3) NOT NULL,
  `count` int(11) NOT NULL,
  PRIMARY KEY (`_id`),
  UNIQUE KEY `_key_time` (`key`, `time`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO `_1_abuse` (`key`, `time`, `count`)
SELECT CONCAT('url:/v1/account/sessions,ip:127.0.0.', seq), TIMESTAMP '2024-05-01 00:00:00' + INTERVAL seq MINUTE, seq % 10
FROM seq_1_to_50;

-- Routines, a view, a trigger and an event, so a dump without --routines,
-- --triggers or --events is caught by the restore tests.

CREATE VIEW `active_sessions` AS
  SELECT s.`_uid` AS session, u.`_uid` AS user, u.`email`, s.`expire`
  FROM `_1_sessions` s JOIN `_1_users` u ON u.`_uid` = s.`userId`
  WHERE s.`provider` <> 'anonymous';

DELIMITER ;;

CREATE TRIGGER `_1_users_touch` BEFORE UPDATE ON `_1_users` FOR EACH ROW
BEGIN
  SET NEW.`_updatedAt` = NOW(3);
END;;

CREATE PROCEDURE `count_sessions`(IN user_uid VARCHAR(255), OUT total INT)
  READS SQL DATA
BEGIN
  SELECT COUNT(*) INTO total FROM `_1_sessions` WHERE `userId` = user_uid;
END;;

CREATE FUNCTION `user_label`(user_id INT UNSIGNED) RETURNS VARCHAR(2400)
  READS SQL DATA
BEGIN
  RETURN (SELECT CONCAT(`name`, ' <', `email`, '>') FROM `_1_users` WHERE `_id` = user_id);
END;;

DELIMITER ;

-- Disabled so it never changes data under a test; it is in the dump all
-- the same.
CREATE EVENT `purge_expired_sessions`
  ON SCHEDULE EVERY 1 DAY STARTS '2024-01-01 03:00:00'
  DISABLE
  DO DELETE FROM `_1_sessions` WHERE `expire` < NOW();

-- A second database, so "all databases" means more than one. ------------

CREATE DATABASE `appwrite_logs` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `appwrite_logs`.`logs` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `time` datetime(3) NOT NULL,
  `level` enum('debug','info','warning','error') NOT NULL,
  `message` text NOT NULL,
  PRIMARY KEY (`id`),
  KEY `time` (`time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO `appwrite_logs`.`logs` (`time`, `level`, `message`)
SELECT TIMESTAMP '2024-07-01 00:00:00' + INTERVAL seq SECOND,
       ELT(1 + seq % 4, 'debug', 'info', 'warning', 'error'),
       CONCAT('request ', seq, ' → ', ELT(1 + seq % 3, 'ok ✅', 'slow 🐢', 'failed ❌'))
FROM seq_1_to_800;
