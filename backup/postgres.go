package backup

import (
	"context"
	"io"
	"log/slog"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/archive/pgscan"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/postgres"
)

// postgresDumpOptions are what the manifest records of how a PostgreSQL
// dump was made: pg_dump's options, after pg_dumpall --globals-only when
// the roles are included.
func postgresDumpOptions(cfg *config.Config) []string {
	opts := append([]string(nil), postgres.DumpOptions...)
	if cfg.Stack.Database.IncludeGrants {
		opts = append([]string{"pg_dumpall --globals-only"}, opts...)
	}
	return opts
}

// writePostgresArchive is writeArchive for a PostgreSQL stack: the
// stack's files, then one plain-format dump stream (the roles when
// include_grants is set, then each database with its CREATE DATABASE),
// which pgscan reads as it goes into the archive.
//
// Plain format, not pg_dump's custom or directory one, because it goes
// through the archive's pipeline as the MariaDB dump does (chunks, each
// with its sha256, verified before a byte reaches the server), its row
// counts are read from the stream itself (COPY writes a row a line), and
// an operator can read and import it by hand with psql. pg_restore -j
// needs a seekable file, which a stream from the archive is not.
func writePostgresArchive(ctx context.Context, aw *archive.Writer, eng Engine, plan *stackPlan, info *postgres.Info, cfg *config.Config, m *archive.Manifest, counters *progressCounters, log *slog.Logger) error {
	counters.phase.Store("files")
	for _, f := range plan.files {
		if err := addStackFile(aw, cfg.Stack.Dir, f); err != nil {
			return err
		}
	}
	counters.phase.Store("dump")
	dr, err := dumpInto(ctx, aw, eng, plan.dbContainer.ID, pgscan.New(), `"-- PostgreSQL database dump complete"`, &counters.dump, func(w io.Writer) error {
		return plan.pg.Dump(ctx, info.DumpArgs(cfg.Stack.Database.IncludeGrants), w)
	})
	if err != nil {
		return err
	}
	m.Database = &archive.Database{
		Kind:          plan.kind,
		Service:       cfg.Stack.Database.Service,
		Container:     plan.dbContainer.Name,
		Image:         plan.dbContainer.Image,
		ImageDigest:   plan.imageDigest,
		ServerVersion: info.ServerVersion,
		Client:        info.Client,
		ClientVersion: info.ClientVersion,
		DumpOptions:   postgresDumpOptions(cfg),
		Databases:     info.Databases,
		IncludeGrants: cfg.Stack.Database.IncludeGrants,
		ChunkSize:     int64(cfg.Archive.ChunkSize),
		Chunks:        dr.Chunks,
		DumpSize:      dr.Size,
		Tables:        dr.Tables,
		Objects:       dr.Objects,
		Users:         info.Roles,
	}
	nTables, nRows := m.Database.Counts()
	log.Info("database dumped", "bytes", dr.Size, "tables", nTables, "rows", nRows, "chunks", len(dr.Chunks))
	return nil
}
