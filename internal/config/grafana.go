package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// grafanaFile is Grafana's datasource provisioning format. Only the fields
// oncall maps are read; the rest of Grafana's many fields are ignored.
type grafanaFile struct {
	Datasources []grafanaDatasource `yaml:"datasources"`
}

type grafanaDatasource struct {
	Name           string            `yaml:"name"`
	Type           string            `yaml:"type"`
	UID            string            `yaml:"uid"`
	URL            string            `yaml:"url"`
	IsDefault      bool              `yaml:"isDefault"`
	BasicAuth      bool              `yaml:"basicAuth"`
	BasicAuthUser  string            `yaml:"basicAuthUser"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData"`
}

// Import is the result of reading Grafana provisioning files: a config
// document, and notes for the user (environment variables to set, what was
// skipped).
type Import struct {
	YAML  []byte
	Notes []string
}

// importedDatasource mirrors Datasource with plain strings, because the
// secrets it holds are ${VAR} references, not values.
type importedDatasource struct {
	URL         string            `yaml:"url"`
	BasicAuth   map[string]string `yaml:"basic_auth,omitempty"`
	BearerToken string            `yaml:"bearer_token,omitempty"`
	Tenant      string            `yaml:"tenant,omitempty"`
	Headers     map[string]string `yaml:"headers,omitempty"`
	TLS         map[string]bool   `yaml:"tls,omitempty"`
}

type importedConfig struct {
	Datasources map[string]importedDatasource `yaml:"datasources"`
	Conventions map[string]any                `yaml:"conventions,omitempty"`
	Grafana     *Grafana                      `yaml:"grafana,omitempty"`
}

var grafanaTypes = map[string]string{
	"prometheus": "prometheus", "loki": "loki", "tempo": "tempo", "alertmanager": "alertmanager",
}

var envName = regexp.MustCompile(`[^A-Z0-9]+`)

// ImportGrafana reads Grafana datasource provisioning files and returns the
// matching oncall config: datasources (URL, basic auth, custom headers, the
// X-Scope-OrgID tenant, TLS verification), Loki derived fields as trace-ID
// regexes or label, and Tempo's traces-to-logs mapping of service.name as
// the Loki service label. Secrets are never copied: each becomes a ${VAR}
// reference, and the notes name the variables to set.
func ImportGrafana(files map[string][]byte) (Import, error) {
	var all []grafanaDatasource
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var f grafanaFile
		if err := yaml.Unmarshal(files[n], &f); err != nil {
			return Import{}, fmt.Errorf("%s: %w", n, err)
		}
		if len(f.Datasources) == 0 {
			return Import{}, fmt.Errorf("%s: no datasources: not a Grafana datasource provisioning file", n)
		}
		all = append(all, f.Datasources...)
	}
	var imp Import
	out := importedConfig{Datasources: map[string]importedDatasource{}}
	chosen := map[string]grafanaDatasource{}
	for _, ds := range all {
		kind, ok := grafanaTypes[ds.Type]
		if !ok {
			imp.Notes = append(imp.Notes, fmt.Sprintf("skipped %q: type %s is not one oncall reads", ds.Name, ds.Type))
			continue
		}
		if prev, dup := chosen[kind]; dup {
			if !ds.IsDefault || prev.IsDefault {
				imp.Notes = append(imp.Notes, fmt.Sprintf("skipped %q: oncall uses one %s datasource, kept %q", ds.Name, kind, prev.Name))
				continue
			}
			imp.Notes = append(imp.Notes, fmt.Sprintf("skipped %q: oncall uses one %s datasource, kept the default %q", prev.Name, kind, ds.Name))
		}
		chosen[kind] = ds
	}
	if len(chosen) == 0 {
		return Import{}, fmt.Errorf("no prometheus, loki, tempo or alertmanager datasource found")
	}
	conv := map[string]any{}
	traceID := map[string]any{}
	for kind, ds := range chosen {
		if ds.URL == "" {
			return Import{}, fmt.Errorf("datasource %q has no url", ds.Name)
		}
		prefix := "GRAFANA_" + strings.Trim(envName.ReplaceAllString(strings.ToUpper(ds.Name), "_"), "_")
		secret := func(field, suffix string) string {
			v := prefix + "_" + suffix
			imp.Notes = append(imp.Notes, fmt.Sprintf("set %s: the %s of %q (Grafana secureJsonData.%s) is not copied", v, strings.ToLower(strings.ReplaceAll(suffix, "_", " ")), ds.Name, field))
			return "${" + v + "}"
		}
		o := importedDatasource{URL: ds.URL}
		if ds.BasicAuth {
			o.BasicAuth = map[string]string{"username": ds.BasicAuthUser, "password": secret("basicAuthPassword", "PASSWORD")}
		}
		for i := 1; ; i++ {
			name, ok := ds.JSONData[fmt.Sprintf("httpHeaderName%d", i)].(string)
			if !ok {
				break
			}
			field := fmt.Sprintf("httpHeaderValue%d", i)
			switch {
			case strings.EqualFold(name, "X-Scope-OrgID"):
				o.Tenant = secret(field, "TENANT")
			case strings.EqualFold(name, "Authorization"):
				o.BearerToken = secret(field, "TOKEN")
				imp.Notes = append(imp.Notes, fmt.Sprintf("%q sends an Authorization header: set the variable to the token alone, without \"Bearer \"", ds.Name))
			default:
				if o.Headers == nil {
					o.Headers = map[string]string{}
				}
				o.Headers[name] = secret(field, envName.ReplaceAllString(strings.ToUpper(name), "_"))
			}
		}
		if skip, _ := ds.JSONData["tlsSkipVerify"].(bool); skip {
			o.TLS = map[string]bool{"insecure_skip_verify": true}
		}
		if ca, _ := ds.JSONData["tlsAuthWithCACert"].(bool); ca {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%q uses a CA certificate held by Grafana: save it to a file and set tls.ca_file", ds.Name))
		}
		out.Datasources[kind] = o
		if ds.UID != "" && kind != "alertmanager" {
			if out.Grafana == nil {
				out.Grafana = &Grafana{URL: "${GRAFANA_URL:-}", Datasources: map[string]string{}}
				imp.Notes = append(imp.Notes, "set GRAFANA_URL (or grafana.url): the address of this Grafana, for the cockpit's Explore links (o)")
			}
			out.Grafana.Datasources[kind] = ds.UID
		}
		switch kind {
		case "loki":
			importDerivedFields(ds, chosen, traceID, &imp)
		case "tempo":
			if label := tracesToLogsServiceLabel(ds.JSONData); label != "" {
				conv["service_label"] = map[string]string{"loki": label}
			}
		}
	}
	if len(traceID) > 0 {
		conv["trace_id"] = traceID
	}
	if len(conv) > 0 {
		out.Conventions = conv
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		return Import{}, err
	}
	imp.YAML = append([]byte("# Imported from Grafana datasource provisioning by `oncall config import-grafana`.\n"), b...)
	return imp, nil
}

// importDerivedFields maps Loki derived fields that link to the Tempo
// datasource: a regex matcher becomes a trace-ID regex, a label matcher the
// trace-ID label.
func importDerivedFields(ds grafanaDatasource, chosen map[string]grafanaDatasource, traceID map[string]any, imp *Import) {
	fields, _ := ds.JSONData["derivedFields"].([]any)
	tempo, haveTempo := chosen["tempo"]
	var regexes []string
	for _, f := range fields {
		m, _ := f.(map[string]any)
		expr, _ := m["matcherRegex"].(string)
		uid, _ := m["datasourceUid"].(string)
		name, _ := m["name"].(string)
		if expr == "" {
			continue
		}
		toTempo := haveTempo && uid != "" && uid == tempo.UID
		if !toTempo && !strings.Contains(strings.ToLower(name), "trace") {
			imp.Notes = append(imp.Notes, fmt.Sprintf("skipped derived field %q of %q: it does not link to the Tempo datasource", name, ds.Name))
			continue
		}
		if mt, _ := m["matcherType"].(string); mt == "label" {
			traceID["label"] = expr
			continue
		}
		if re, err := regexp.Compile(expr); err != nil || re.NumSubexp() < 1 {
			imp.Notes = append(imp.Notes, fmt.Sprintf("skipped derived field %q of %q: %q is not a regex with a capture group", name, ds.Name, expr))
			continue
		}
		regexes = append(regexes, expr)
	}
	if len(regexes) > 0 {
		traceID["regexes"] = regexes
	}
}

// tracesToLogsServiceLabel returns the Loki label that Tempo's traces-to-logs
// setting maps service.name to (tracesToLogsV2 tags, or the older
// tracesToLogs mappedTags).
func tracesToLogsServiceLabel(jd map[string]any) string {
	for _, key := range []string{"tracesToLogsV2", "tracesToLogs"} {
		t2l, _ := jd[key].(map[string]any)
		for _, list := range []string{"tags", "mappedTags"} {
			tags, _ := t2l[list].([]any)
			for _, t := range tags {
				m, _ := t.(map[string]any)
				if k, _ := m["key"].(string); k == "service.name" {
					if v, _ := m["value"].(string); v != "" {
						return v
					}
				}
			}
		}
	}
	return ""
}
