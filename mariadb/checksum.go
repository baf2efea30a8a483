package mariadb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Checksums runs CHECKSUM TABLE … EXTENDED over the tables, by
// "db.table". EXTENDED reads every row: the quick form is only kept by
// MyISAM tables with CHECKSUM=1 and is NULL for InnoDB. Tables that do
// not exist (NULL) are absent from the result.
func (m *Server) Checksums(ctx context.Context, tables []TableRef) (map[string]uint64, error) {
	out := map[string]uint64{}
	// One statement per batch keeps exec round trips few, as RowCounts.
	const batch = 200
	for start := 0; start < len(tables); start += batch {
		part := tables[start:min(start+batch, len(tables))]
		names := make([]string, len(part))
		for i, t := range part {
			names[i] = quoteIdent(t.Database) + "." + quoteIdent(t.Name)
		}
		rows, err := m.Query(ctx, "CHECKSUM TABLE "+strings.Join(names, ", ")+" EXTENDED")
		if err != nil {
			return nil, fmt.Errorf("checksumming tables: %w", err)
		}
		for _, r := range rows {
			if len(r) != 2 || r[1] == "NULL" || r[1] == "" {
				continue
			}
			n, err := strconv.ParseUint(r[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("checksumming %s: %q is not a number", r[0], r[1])
			}
			out[r[0]] = n
		}
	}
	return out, nil
}
