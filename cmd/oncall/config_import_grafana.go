package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/config"
)

// configImportGrafanaOptions are config import-grafana's flags and files,
// and the factory it writes through.
type configImportGrafanaOptions struct {
	*Factory
	// files are Grafana's datasource provisioning files.
	files []string
	write string
	force bool
}

// NewCmdConfigImportGrafana is `oncall config import-grafana`; runF, when
// set, runs instead of runConfigImportGrafana, so tests can read the
// options the flags gave.
func NewCmdConfigImportGrafana(f *Factory, runF func(context.Context, *configImportGrafanaOptions) error) *cobra.Command {
	o := &configImportGrafanaOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "import-grafana FILE...",
		Short: "Write oncall datasources and conventions from Grafana provisioning YAML",
		Long: `import-grafana reads Grafana datasource provisioning files and writes the
matching oncall config: the Prometheus, Loki, Tempo and Alertmanager
datasources (URL, basic auth, headers, X-Scope-OrgID tenant, TLS), Loki
derived fields that link to Tempo as trace-ID regexes, and Tempo's
traces-to-logs mapping of service.name as the Loki service label.

Secrets are never copied: each becomes a ${VAR} reference and the variables
to set are listed on stderr.`,
		Example: `  oncall config import-grafana -w ~/.config/oncall/config.yaml /etc/grafana/provisioning/datasources/*.yaml
  oncall config import-grafana grafana-datasources.yaml          # print it, to read first`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runConfigImportGrafana(o)
		},
	}
	cmd.Flags().StringVarP(&o.write, "write", "w", "", "write to this file instead of stdout; an existing file is kept unless --force")
	cmd.Flags().BoolVar(&o.force, "force", false, "with --write, replace an existing file")
	return cmd
}

func runConfigImportGrafana(o *configImportGrafanaOptions) error {
	files := map[string][]byte{}
	for _, a := range o.files {
		b, err := os.ReadFile(a)
		if err != nil {
			return usageError{err}
		}
		files[a] = b
	}
	imp, err := config.ImportGrafana(files)
	if err != nil {
		return usageError{err}
	}
	for _, n := range imp.Notes {
		fmt.Fprintln(o.IO.ErrOut, "note:", n)
	}
	if o.write == "" {
		_, err = o.IO.Out.Write(imp.YAML)
		return err
	}
	if err := writeFileAtomic(o.write, imp.YAML, o.force); err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.IO.ErrOut, "wrote %s; check it with: oncall config validate --config %s\n", o.write, o.write)
	return err
}
