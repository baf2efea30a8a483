-- Makes the databases whose mariadb-dump is identifiers.sql: a name of
-- every kind MariaDB accepts. Run with --binary-mode (the \r of a name
-- stays) --default-character-set=utf8mb4,
-- then: mariadb-dump <dr's DumpOptions> --databases app 'd<newline>b' d.b
CREATE DATABASE `app`;
USE `app`;
CREATE TABLE `-- dash` (id int);
CREATE TABLE `/* star` (id int);
CREATE TABLE `a

b` (id int);
INSERT INTO `a

b` VALUES (7);
CREATE TABLE `a
-- Table structure for table `` x` (id int);
CREATE TABLE `a
b` (id int primary key, v text);
INSERT INTO `a
b` VALUES (1,'x'),(2,'y');
CREATE TABLE `back\slash` (id int);
CREATE TABLE `back``tick` (id int);
INSERT INTO `back``tick` VALUES (1);
CREATE TABLE `cr` (id int);
CREATE TABLE `dot.ted` (id int);
CREATE TABLE `quo'te"s` (id int);
CREATE TABLE `semi;colon` (id int);
CREATE TABLE `sp 
x` (id int);
CREATE TABLE `tab	x` (id int);
CREATE TABLE `tick``.dot` (id int);
INSERT INTO `tick``.dot` VALUES (3),(4);
CREATE TABLE `with space` (id int);
CREATE TABLE `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63` (id int);
CREATE TABLE `é ünï ☃` (id int);
CREATE VIEW `v
iew` AS SELECT * FROM `a
b`;
CREATE TRIGGER `tr
g` BEFORE INSERT ON `a
b` FOR EACH ROW SET NEW.v = 'z';
CREATE DATABASE `d
b`;
CREATE DATABASE `d.b`;
USE `d
b`;
CREATE TABLE `t
1` (id int);
INSERT INTO `t
1` VALUES (5);
