package store

import (
	"context"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"testing/fstest"

	"trueup.dev/platform/sqldb"
)

// MigrateTo brings the schema up to version (and no further), for tests of
// a migration over data written before it.
func MigrateTo(ctx context.Context, db *sqldb.DB, version int) error {
	files := fstest.MapFS{}
	err := fs.WalkDir(migrations, "migrations", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n, err := strconv.Atoi(strings.SplitN(path.Base(p), "_", 2)[0])
		if err != nil || n > version {
			return nil
		}
		b, err := fs.ReadFile(migrations, p)
		if err != nil {
			return err
		}
		files[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		return err
	}
	s := schema
	s.Files = files
	return s.Migrate(ctx, db)
}
