// grafana-dashboard-validate checks classic Grafana dashboard JSON (the
// schemaVersion 3x-4x model: panels, templating, annotations, links,
// fieldConfig, targets) against Grafana's published dashboard schema as
// generated into Go by grafana-foundation-sdk (from Grafana's CUE kinds:
// dashboard, the panelcfg of each core panel, the dataquery of each core
// datasource).
//
// Each file gets the schema's defaults filled in where fields are absent (as
// CUE does), is decoded with the SDK's strict decoders (unknown fields,
// wrong types and absent required fields without default are errors;
// options and fieldConfig.defaults.custom by panel type, targets by
// datasource type), then checked against the schema's constraints (the
// SDK's Validate: gridPos bounds, ...) and enums (disjunctions such as
// legend.displayMode "list" | "table" | "hidden", which the SDK's decoders
// do not check). One line per problem, "FILE: path.to.field: message"; exit
// 1 if any dashboard is invalid, 2 on usage or read errors.
//
//	grafana-dashboard-validate [-q] [-allow-missing] FILE...   ("-" reads standard input)
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// sdkVersion is stamped by build.sh (-ldflags -X main.sdkVersion=...).
var sdkVersion = "unknown"

func main() {
	quiet := flag.Bool("q", false, "print nothing for valid dashboards, nor notes")
	allowMissing := flag.Bool("allow-missing", false,
		"report required fields that have no schema default and are absent (links[].icon, options.legend, ...) as notes, not errors: Grafana's frontend fills them in")
	version := flag.Bool("version", false, "print the schema (SDK) version and exit")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-q] [-allow-missing] FILE... (\"-\" reads stdin)\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if *version {
		fmt.Println("github.com/grafana/grafana-foundation-sdk/go", sdkVersion)
		return
	}
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	plugins.RegisterDefaultPlugins()
	if len(enums) == 0 && !*quiet {
		fmt.Fprintln(os.Stderr, "note: built without schema_gen.go (build.sh writes it): enums unchecked, defaults not applied")
	}

	status := 0
	for _, name := range flag.Args() {
		raw, err := read(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(2)
		}
		problems, notes := check(raw)
		if *allowMissing {
			problems, notes = demoteMissing(problems, notes)
		}
		if !*quiet {
			for _, n := range notes {
				fmt.Fprintf(os.Stderr, "%s: note: %s\n", name, n)
			}
		}
		if len(problems) > 0 {
			status = 1
			for _, p := range problems {
				fmt.Printf("%s: %s\n", name, p)
			}
			continue
		}
		if !*quiet {
			fmt.Printf("%s: ok\n", name)
		}
	}
	os.Exit(status)
}

func read(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// check returns the problems of one dashboard, and notes on what the schema
// could not check.
func check(raw []byte) (problems, notes []string) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&top); err != nil {
		return []string{"not a JSON object: " + err.Error()}, nil
	}
	if top == nil {
		return []string{"not a JSON object: null"}, nil
	}

	filled := withDefaults(raw)
	var d dashboard.Dashboard
	decodeErr := realErr(d.UnmarshalJSONStrict(filled))
	if decodeErr != nil {
		problems = messages(decodeErr)
		var precise []string
		typeMismatches(reflect.TypeOf(d), raw, "", &precise)
		problems = refineTypeErrors(problems, precise)
	}
	var buildErrs cog.BuildErrors
	if decodeErr == nil || errors.As(decodeErr, &buildErrs) {
		// The decoder goes on past a bad field, so what it decoded can be
		// checked too: the schema's constraints (Validate) and enums (the
		// SDK's decoders take any string or number for an enum).
		var later []string
		if err := d.Validate(); err != nil {
			later = messages(err)
		}
		checkEnums(reflect.TypeOf(d), raw, "", &later)
		later = append(later, checkPanels(raw, filled)...)
		for _, p := range later {
			if !covered(p, problems) {
				problems = append(problems, p)
			}
		}
	}
	var full map[string]json.RawMessage
	if json.Unmarshal(filled, &full) != nil {
		full = top
	}
	p, n := walkPanels(full["panels"], "panels")
	for _, extra := range p {
		// Only where the SDK said nothing about that fieldConfig already.
		at := extra[:strings.Index(extra, ".fieldConfig")+len(".fieldConfig")]
		if !hasPrefix(problems, at) {
			problems = append(problems, extra)
		}
	}
	notes = append(notes, n...)
	return dedupe(problems), notes
}

// checkPanels decodes each top-level panel on its own and checks its
// constraints. The Dashboard decoder reports the panels' decoding
// errors, but since SDK v0.0.13 or so it also drops every panel (Panel's
// strict decoder returns a nil cog.BuildErrors as a non-nil error, which the
// panel/row disjunction takes for a failure), so nothing after decoding
// would see them. A panel that fails to decode is not checked further.
func checkPanels(raw, filled []byte) (problems []string) {
	var orig, full struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if json.Unmarshal(raw, &orig) != nil || json.Unmarshal(filled, &full) != nil || len(orig.Panels) != len(full.Panels) {
		return nil
	}
	for i := range full.Panels {
		at := "panels[" + strconv.Itoa(i) + "]"
		var probe struct {
			Type any `json:"type"`
		}
		_ = json.Unmarshal(full.Panels[i], &probe)
		var (
			validator interface{ Validate() error }
			err       error
		)
		if probe.Type == "row" {
			var row dashboard.RowPanel
			err, validator = realErr(row.UnmarshalJSONStrict(full.Panels[i])), &row
		} else {
			var panel dashboard.Panel
			err, validator = realErr(panel.UnmarshalJSONStrict(full.Panels[i])), &panel
		}
		if err != nil {
			continue // reported by the Dashboard decoder
		}
		if err := validator.Validate(); err != nil {
			for _, m := range messages(err) {
				problems = append(problems, at+"."+m)
			}
		}
	}
	return problems
}

// realErr turns the SDK's empty cog.BuildErrors, returned as a non-nil
// error by some strict decoders, into nil.
func realErr(err error) error {
	var errs cog.BuildErrors
	if errors.As(err, &errs) && len(errs) == 0 {
		return nil
	}
	return err
}

// walkPanels adds what the SDK's Panel decoder leaves loose: it decodes
// fieldConfig with the lenient decoder (only fieldConfig.defaults.custom is
// strict), so typos in fieldConfig.defaults (e.g. "unitt") would pass. It
// also names the panels whose options or targets no schema covers.
func walkPanels(raw json.RawMessage, path string) (problems, notes []string) {
	var panels []map[string]json.RawMessage
	if raw == nil || json.Unmarshal(raw, &panels) != nil {
		return nil, nil // the strict decoder has reported it
	}
	for i, p := range panels {
		at := path + "[" + strconv.Itoa(i) + "]"
		var typ string
		_ = json.Unmarshal(p["type"], &typ)
		if typ == "row" {
			pr, nr := walkPanels(p["panels"], at+".panels")
			problems, notes = append(problems, pr...), append(notes, nr...)
			continue
		}
		if fc, ok := p["fieldConfig"]; ok && string(fc) != "null" {
			var src dashboard.FieldConfigSource
			if err := src.UnmarshalJSONStrict(fc); err != nil {
				for _, m := range messages(err) {
					problems = append(problems, at+".fieldConfig."+m)
				}
			}
		}
		if _, known := cog.ConfigForPanelcfgVariant(typ); !known && typ != "" {
			notes = append(notes, fmt.Sprintf("%s (type %q): no panel schema in the SDK; options and fieldConfig.defaults.custom not checked", at, typ))
		}
		var ds struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(p["datasource"], &ds)
		var targets []map[string]json.RawMessage
		_ = json.Unmarshal(p["targets"], &targets)
		for j, t := range targets {
			var tds struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(t["datasource"], &tds)
			kind := ds.Type
			if kind == "" {
				kind = tds.Type
			}
			if kind != "" && !knownDataquery(kind) {
				notes = append(notes, fmt.Sprintf("%s.targets[%d]: no query schema for datasource type %q; not checked", at, j, kind))
			}
		}
	}
	return problems, notes
}

// knownDataquery tells whether the SDK has a query schema for a datasource
// type (otherwise targets decode into an unchecked map).
func knownDataquery(kind string) bool {
	q, err := cog.StrictUnmarshalDataquery([]byte(`{}`), kind)
	return err != nil || q.DataqueryType() != "unknown"
}

// messages flattens the SDK's errors into "path: message" lines, naming
// unexpected fields by their JSON path rather than by the Go type.
func messages(err error) []string {
	var errs cog.BuildErrors
	if !errors.As(err, &errs) {
		var one *cog.BuildError
		if errors.As(err, &one) {
			errs = cog.BuildErrors{one}
		} else {
			path, msg := tidy("", err.Error())
			if path == "" {
				path = topLevel
			}
			return []string{path + ": " + msg}
		}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		path, msg := e.Path, e.Message
		if strings.HasPrefix(msg, "unexpected field ") {
			// "panels[2].Panel" + "unexpected field 'foo'" -> "panels[2].foo: unexpected field"
			if k := strings.LastIndex(path, "."); k >= 0 && isTypeName(path[k+1:]) {
				path = path[:k]
			} else if isTypeName(path) {
				path = ""
			}
			field := strings.Trim(strings.TrimPrefix(msg, "unexpected field "), "'")
			if path != "" {
				path += "."
			}
			path, msg = path+field, "unknown field (not in the schema)"
		}
		path, msg = tidy(path, msg)
		out = append(out, path+": "+msg)
	}
	return out
}

var (
	// cog's disjunction wrappers (PanelOrRowPanel...) put Go type names in paths.
	typeSegment = regexp.MustCompile(`\.(Panel|RowPanel)\b`)
	// encoding/json's type errors name Go types.
	jsonType = regexp.MustCompile(`^json: cannot unmarshal (\w+) into Go (?:value|struct field ([\w.]+)) of type (\S+)$`)
)

// tidy rewrites a path and message into JSON terms.
func tidy(path, msg string) (string, string) {
	path = typeSegment.ReplaceAllString(path, "")
	m := jsonType.FindStringSubmatch(msg)
	if m == nil {
		return path, msg
	}
	got, field, want := m[1], m[2], m[3]
	if field != "" { // "FieldConfig.defaults.unit": the part after the Go type
		if k := strings.Index(field, "."); k >= 0 {
			path = join(path, field[k+1:])
		}
	}
	return path, fmt.Sprintf("wrong type: got %s, want %s", jsonTypeName(got), jsonTypeName(want))
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string", goType == "bool", goType == "number", goType == "object", goType == "array":
		if goType == "bool" {
			return "boolean"
		}
		return goType
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.HasPrefix(goType, "map["), goType == "struct":
		return "object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "number (" + goType + ")"
	}
	return goType
}

// isTypeName tells a Go type name (Panel, GridPos) from a JSON field (gridPos).
func isTypeName(s string) bool {
	return s != "" && s[0] >= 'A' && s[0] <= 'Z' && !strings.ContainsAny(s, "[]")
}

// topLevel stands for the path of an error the SDK gives without one.
const topLevel = "(dashboard)"

const missing = ": required field is missing from input"

func demoteMissing(problems, notes []string) (kept, moreNotes []string) {
	for _, p := range problems {
		if strings.HasSuffix(p, missing) {
			notes = append(notes, strings.TrimSuffix(p, missing)+": required by the schema (no default), absent")
		} else {
			kept = append(kept, p)
		}
	}
	return kept, notes
}

// covered tells whether a problem lies at or under the path of another
// (a field that failed to decode is zero, so its checks would mislead).
func covered(problem string, by []string) bool {
	at := pathOf(problem)
	for _, q := range by {
		p := pathOf(q)
		if at == p || strings.HasPrefix(at, p+".") || strings.HasPrefix(at, p+"[") {
			return true
		}
	}
	return false
}

func pathOf(problem string) string {
	if k := strings.Index(problem, ": "); k >= 0 {
		return problem[:k]
	}
	return problem
}

func hasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
