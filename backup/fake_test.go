package backup

import "github.com/appwrite-dr/dr/backup/backuptest"

// The fake stack of backuptest, under the names this package's tests
// have always used.
type fakeEngine = backuptest.Engine

const fakeDBID = backuptest.DBID

var fakeConfig = backuptest.Config
