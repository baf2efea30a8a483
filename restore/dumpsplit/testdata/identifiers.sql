/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: app
-- ------------------------------------------------------
-- Server version	10.11.18-MariaDB-0+deb12u1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Current Database: `app`
--

/*!40000 DROP DATABASE IF EXISTS `app`*/;

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `app` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;

USE `app`;

--
-- Table structure for table `-- dash`
--

DROP TABLE IF EXISTS `-- dash`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `-- dash` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `-- dash`
--

LOCK TABLES `-- dash` WRITE;
/*!40000 ALTER TABLE `-- dash` DISABLE KEYS */;
/*!40000 ALTER TABLE `-- dash` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `/* star`
--

DROP TABLE IF EXISTS `/* star`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `/* star` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `/* star`
--

LOCK TABLES `/* star` WRITE;
/*!40000 ALTER TABLE `/* star` DISABLE KEYS */;
/*!40000 ALTER TABLE `/* star` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `a
-- 
-- b`
--

DROP TABLE IF EXISTS `a

b`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `a

b` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `a
-- 
-- b`
--

LOCK TABLES `a

b` WRITE;
/*!40000 ALTER TABLE `a

b` DISABLE KEYS */;
INSERT INTO `a

b` VALUES
(7);
/*!40000 ALTER TABLE `a

b` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `a
-- -- Table structure for table `` x`
--

DROP TABLE IF EXISTS `a
-- Table structure for table `` x`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `a
-- Table structure for table `` x` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `a
-- -- Table structure for table `` x`
--

LOCK TABLES `a
-- Table structure for table `` x` WRITE;
/*!40000 ALTER TABLE `a
-- Table structure for table `` x` DISABLE KEYS */;
/*!40000 ALTER TABLE `a
-- Table structure for table `` x` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `a
-- b`
--

DROP TABLE IF EXISTS `a
b`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `a
b` (
  `id` int(11) NOT NULL,
  `v` text DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `a
-- b`
--

LOCK TABLES `a
b` WRITE;
/*!40000 ALTER TABLE `a
b` DISABLE KEYS */;
INSERT INTO `a
b` VALUES
(1,'x'),
(2,'y');
/*!40000 ALTER TABLE `a
b` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `tr
g` BEFORE INSERT ON `a
b` FOR EACH ROW SET NEW.v = 'z' 
*/;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Table structure for table `back\slash`
--

DROP TABLE IF EXISTS `back\slash`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `back\slash` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `back\slash`
--

LOCK TABLES `back\slash` WRITE;
/*!40000 ALTER TABLE `back\slash` DISABLE KEYS */;
/*!40000 ALTER TABLE `back\slash` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `back``tick`
--

DROP TABLE IF EXISTS `back``tick`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `back``tick` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `back``tick`
--

LOCK TABLES `back``tick` WRITE;
/*!40000 ALTER TABLE `back``tick` DISABLE KEYS */;
INSERT INTO `back``tick` VALUES
(1);
/*!40000 ALTER TABLE `back``tick` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `cr`
--

DROP TABLE IF EXISTS `cr`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `cr` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `cr`
--

LOCK TABLES `cr` WRITE;
/*!40000 ALTER TABLE `cr` DISABLE KEYS */;
/*!40000 ALTER TABLE `cr` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `dot.ted`
--

DROP TABLE IF EXISTS `dot.ted`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `dot.ted` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `dot.ted`
--

LOCK TABLES `dot.ted` WRITE;
/*!40000 ALTER TABLE `dot.ted` DISABLE KEYS */;
/*!40000 ALTER TABLE `dot.ted` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `quo'te"s`
--

DROP TABLE IF EXISTS `quo'te"s`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `quo'te"s` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `quo'te"s`
--

LOCK TABLES `quo'te"s` WRITE;
/*!40000 ALTER TABLE `quo'te"s` DISABLE KEYS */;
/*!40000 ALTER TABLE `quo'te"s` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `semi;colon`
--

DROP TABLE IF EXISTS `semi;colon`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `semi;colon` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `semi;colon`
--

LOCK TABLES `semi;colon` WRITE;
/*!40000 ALTER TABLE `semi;colon` DISABLE KEYS */;
/*!40000 ALTER TABLE `semi;colon` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `sp 
-- x`
--

DROP TABLE IF EXISTS `sp 
x`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `sp 
x` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `sp 
-- x`
--

LOCK TABLES `sp 
x` WRITE;
/*!40000 ALTER TABLE `sp 
x` DISABLE KEYS */;
/*!40000 ALTER TABLE `sp 
x` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `tab	x`
--

DROP TABLE IF EXISTS `tab	x`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `tab	x` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `tab	x`
--

LOCK TABLES `tab	x` WRITE;
/*!40000 ALTER TABLE `tab	x` DISABLE KEYS */;
/*!40000 ALTER TABLE `tab	x` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `tick``.dot`
--

DROP TABLE IF EXISTS `tick``.dot`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `tick``.dot` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `tick``.dot`
--

LOCK TABLES `tick``.dot` WRITE;
/*!40000 ALTER TABLE `tick``.dot` DISABLE KEYS */;
INSERT INTO `tick``.dot` VALUES
(3),
(4);
/*!40000 ALTER TABLE `tick``.dot` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Temporary table structure for view `v
-- iew`
--

DROP TABLE IF EXISTS `v
iew`;
/*!50001 DROP VIEW IF EXISTS `v
iew`*/;
SET @saved_cs_client     = @@character_set_client;
SET character_set_client = utf8mb4;
/*!50001 CREATE VIEW `v
iew` AS SELECT
 NULL AS `id`,
 NULL AS `v` */;
SET character_set_client = @saved_cs_client;

--
-- Table structure for table `with space`
--

DROP TABLE IF EXISTS `with space`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `with space` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `with space`
--

LOCK TABLES `with space` WRITE;
/*!40000 ALTER TABLE `with space` DISABLE KEYS */;
/*!40000 ALTER TABLE `with space` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63`
--

DROP TABLE IF EXISTS `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63`
--

LOCK TABLES `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63` WRITE;
/*!40000 ALTER TABLE `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63` DISABLE KEYS */;
/*!40000 ALTER TABLE `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx63` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `é ünï ☃`
--

DROP TABLE IF EXISTS `é ünï ☃`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `é ünï ☃` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `é ünï ☃`
--

LOCK TABLES `é ünï ☃` WRITE;
/*!40000 ALTER TABLE `é ünï ☃` DISABLE KEYS */;
/*!40000 ALTER TABLE `é ünï ☃` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Dumping events for database 'app'
--

--
-- Dumping routines for database 'app'
--

--
-- Current Database: `d
-- b`
--

/*!40000 DROP DATABASE IF EXISTS `d
b`*/;

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d
b` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;

USE `d
b`;

--
-- Table structure for table `t
-- 1`
--

DROP TABLE IF EXISTS `t
1`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `t
1` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `t
-- 1`
--

LOCK TABLES `t
1` WRITE;
/*!40000 ALTER TABLE `t
1` DISABLE KEYS */;
INSERT INTO `t
1` VALUES
(5);
/*!40000 ALTER TABLE `t
1` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Dumping events for database 'd
-- b'
--

--
-- Dumping routines for database 'd
-- b'
--

--
-- Current Database: `d.b`
--

/*!40000 DROP DATABASE IF EXISTS `d.b`*/;

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d.b` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;

USE `d.b`;

--
-- Dumping events for database 'd.b'
--

--
-- Dumping routines for database 'd.b'
--

--
-- Current Database: `app`
--

USE `app`;

--
-- Final view structure for view `v
-- iew`
--

/*!50001 DROP VIEW IF EXISTS `v
iew`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 SET character_set_results     = utf8mb4 */;
/*!50001 SET collation_connection      = utf8mb4_general_ci */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `v
iew` AS select `a
b`.`id` AS `id`,`a
b`.`v` AS `v` from `a
b` */;
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;

--
-- Current Database: `d
-- b`
--

USE `d
b`;

--
-- Current Database: `d.b`
--

USE `d.b`;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-12-07  0:52:38
