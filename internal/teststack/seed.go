package teststack

// What testdata/seed/appwrite.sql and the appwrite service put in a fresh
// stack. TestSeedMatchesStack keeps these in step with the assets.

// Databases the seed makes (besides the system ones).
func SeedDatabases() []string {
	return []string{"appwrite", "appwrite_logs"}
}

// SeedRows is the row count of every seeded table, keyed "db.table".
func SeedRows() map[string]int {
	return map[string]int{
		"appwrite._console_projects":                20,
		"appwrite._console_projects_perms":          40,
		"appwrite._1_users":                         1000,
		"appwrite._1_users_perms":                   2000,
		"appwrite._1_sessions":                      2500,
		"appwrite._1_sessions_perms":                2500,
		"appwrite._1_database_1_collection_1":       1500,
		"appwrite._1_database_1_collection_1_perms": 3000,
		"appwrite._1_abuse":                         50,
		"appwrite_logs.logs":                        800,
	}
}

// SeedNonInnoDB lists the seeded tables a backup should warn about.
func SeedNonInnoDB() []string {
	return []string{"appwrite._1_abuse"}
}

// SeedObjects are the appwrite database's stored objects, as Objects
// lists them.
func SeedObjects() []string {
	return []string{
		"event:purge_expired_sessions",
		"function:user_label",
		"procedure:count_sessions",
		"trigger:_1_users_touch",
		"view:active_sessions",
	}
}

// Volumes are the stack's named volumes as the compose file names them;
// Stack.Volume gives the engine's name.
func Volumes() []string {
	return []string{
		"appwrite-builds",
		"appwrite-certificates",
		"appwrite-config",
		"appwrite-functions",
		"appwrite-imports",
		"appwrite-mariadb",
		"appwrite-sites",
		"appwrite-uploads",
	}
}

// SeedVolumeFiles lists some of the files the appwrite service writes into
// its empty volumes, keyed by volume, paths relative to the volume root.
func SeedVolumeFiles() map[string][]string {
	return map[string][]string{
		"appwrite-uploads": {
			"app-console/bucket1/notes.txt",       // 300000 bytes of text
			"app-console/bucket1/photo.bin",       // 200000 random bytes
			"app-console/bucket1/private.txt",     // mode 0600
			"app-console/bucket 2/résumé 履歴書.txt", // space and unicode in names
			"app-console/latest-notes",            // symlink to bucket1/notes.txt
			"app-console/empty",                   // empty directory
		},
		"appwrite-functions":    {"app-console/fn1/code.tar.gz", "app-console/fn1/run.sh"},
		"appwrite-builds":       {"app-console/deployment1/build.log"},
		"appwrite-certificates": {"acme.json", "localhost/cert.pem"},
		"appwrite-config":       {"traefik.yml"},
		"appwrite-sites":        {"app-console/site1/index.html"},
		"appwrite-imports":      {"users.csv"},
	}
}

// SeedPostgresDatabases are the databases testdata/seed-postgres makes.
func SeedPostgresDatabases() []string {
	return []string{"appwrite", "appwrite_logs"}
}

// SeedPostgresRows is the row count of every table the PostgreSQL seed
// makes, keyed "db.schema.table".
func SeedPostgresRows() map[string]int {
	return map[string]int{
		"appwrite.public._console_projects":                20,
		"appwrite.public._console_projects_perms":          40,
		"appwrite.public._1_users":                         1000,
		"appwrite.public._1_users_perms":                   2000,
		"appwrite.public._1_sessions":                      2500,
		"appwrite.public._1_sessions_perms":                2500,
		"appwrite.public._1_database_1_collection_1":       1500,
		"appwrite.public._1_database_1_collection_1_perms": 3000,
		"appwrite.public._1_abuse":                         50,
		"appwrite_logs.public.logs":                        800,
	}
}

// SeedPostgresObjects are the PostgreSQL seed's appwrite database's
// views, functions, procedures and triggers, as PGObjects lists them.
func SeedPostgresObjects() []string {
	return []string{
		"function:public._1_users_touch",
		"function:public.user_label",
		"procedure:public.count_sessions",
		"trigger:public._1_users_touch",
		"view:public.active_sessions",
	}
}
