package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// NewCmdConfig is `oncall config`: validate, show, the contexts, and
// import-grafana.
func NewCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Validate, show and import configuration",
	}
	cmd.AddCommand(NewCmdConfigValidate(f, nil), NewCmdConfigShow(f, nil), NewCmdConfigImportGrafana(f, nil),
		NewCmdConfigGetContexts(f, nil), NewCmdConfigUseContext(f, nil))
	return cmd
}

// writeFileAtomic writes a config file whole or not at all: into a
// temporary file beside it, synced, then renamed over it. An existing file
// is replaced only with replace; a failure leaves it as it was.
func writeFileAtomic(path string, b []byte, replace bool) error {
	if _, err := os.Stat(path); err == nil && !replace {
		return usagef("%s exists (use --force to replace it)", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
