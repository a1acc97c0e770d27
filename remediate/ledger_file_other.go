//go:build !unix

package remediate

import (
	"errors"
	"os"
)

// flockExclusive refuses: without flock two processes could both pass
// the guard, so the file ledger fails closed rather than unlocked.
func flockExclusive(*os.File) error {
	return errors.New("the file ledger needs a Unix host, whose flock shares it safely between processes; configure an Alertmanager, which keeps the ledger instead")
}
