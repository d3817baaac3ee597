package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
)

// enums holds the members of the SDK's enum types, by "importpath.Type";
// schema_gen.go (written by schemagen at build time) fills it.
var enums map[string][]string

// openEnums are enums the CUE schema leaves open (`#FieldColorModeId | string`).
var openEnums = map[string]bool{"FieldColorModeId": true}

// checkEnums walks the SDK's Go types along the JSON and reports enum
// fields whose value is not a member. It reads the types, not decoded
// values: the SDK's strict decoders drop values at some disjunctions (see
// checkPanels), and absent fields would decode to zero values anyway.
func checkEnums(t reflect.Type, raw json.RawMessage, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if raw == nil || string(raw) == "null" {
		return
	}
	if members, ok := enums[t.PkgPath()+"."+t.Name()]; ok && !openEnums[t.Name()] {
		if !member(raw, members, t.Kind() == reflect.String) {
			*out = append(*out, fmt.Sprintf("%s: %s is not one of %s", path, raw, strings.Join(quoteAll(members, t.Kind() == reflect.String), ", ")))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if isUnion(t) {
			forMember(t, raw, path, out, checkEnums)
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			if name := jsonName(t.Field(i)); name != "" {
				if sub, ok := fields[name]; ok {
					checkEnums(t.Field(i).Type, sub, join(path, name), out)
				}
			}
		}
		if t == panelType {
			forVariants(fields, path, func(vt reflect.Type, sub json.RawMessage, at string) {
				checkEnums(vt, sub, at, out)
			})
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return
		}
		for i, item := range items {
			checkEnums(t.Elem(), item, path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		var items map[string]json.RawMessage
		if t.Key().Kind() != reflect.String || json.Unmarshal(raw, &items) != nil {
			return
		}
		for k, item := range items {
			checkEnums(t.Elem(), item, join(path, k), out)
		}
	}
}

// member tells whether a JSON scalar is one of an enum's members.
func member(raw json.RawMessage, members []string, isString bool) bool {
	if isString {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return true // a wrong type: the decoder reports it
		}
		for _, m := range members {
			if m == s {
				return true
			}
		}
		return false
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil {
		return true
	}
	for _, m := range members {
		if f, err := strconv.ParseFloat(m, 64); err == nil && f == n {
			return true
		}
	}
	return false
}

// forMember runs a walk on the member of a disjunction the JSON is: for
// panels the one "type" names, else the one with the fewest findings.
func forMember(t reflect.Type, raw json.RawMessage, path string, out *[]string,
	walk func(reflect.Type, json.RawMessage, string, *[]string)) {
	if f, ok := t.FieldByName("RowPanel"); ok {
		var probe struct {
			Type any `json:"type"`
		}
		_ = json.Unmarshal(raw, &probe)
		if probe.Type != "row" {
			f, _ = t.FieldByName("Panel")
		}
		walk(f.Type, raw, path, out)
		return
	}
	var best []string
	for i := 0; i < t.NumField(); i++ {
		var found []string
		walk(t.Field(i).Type, raw, path, &found)
		if i == 0 || len(found) < len(best) {
			best = found
		}
	}
	*out = append(*out, best...)
}

// forVariants calls f on the parts of a panel whose type depends on the
// panel's type (options, fieldConfig.defaults.custom) or its datasource's
// (targets), with the SDK type each decodes into.
func forVariants(panel map[string]json.RawMessage, path string, f func(reflect.Type, json.RawMessage, string)) {
	var kind string
	_ = json.Unmarshal(panel["type"], &kind)
	if cfg, ok := cog.ConfigForPanelcfgVariant(kind); ok {
		if cfg.OptionsUnmarshaler != nil && panel["options"] != nil {
			if o, err := cfg.OptionsUnmarshaler([]byte("{}")); err == nil {
				f(reflect.TypeOf(o), panel["options"], join(path, "options"))
			}
		}
		if cfg.FieldConfigUnmarshaler != nil && panel["fieldConfig"] != nil {
			var fc struct {
				Defaults struct {
					Custom json.RawMessage `json:"custom"`
				} `json:"defaults"`
			}
			if json.Unmarshal(panel["fieldConfig"], &fc) == nil && fc.Defaults.Custom != nil {
				if c, err := cfg.FieldConfigUnmarshaler([]byte("{}")); err == nil {
					f(reflect.TypeOf(c), fc.Defaults.Custom, join(path, "fieldConfig.defaults.custom"))
				}
			}
		}
	}
	var ds struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(panel["datasource"], &ds)
	var targets []json.RawMessage
	_ = json.Unmarshal(panel["targets"], &targets)
	for i, target := range targets {
		kind := ds.Type
		if kind == "" {
			var t struct {
				Datasource struct {
					Type string `json:"type"`
				} `json:"datasource"`
			}
			_ = json.Unmarshal(target, &t)
			kind = t.Datasource.Type
		}
		if q, err := cog.UnmarshalDataquery([]byte("{}"), kind); err == nil && q != nil && q.DataqueryType() != "unknown" {
			f(reflect.TypeOf(q), target, path+".targets["+strconv.Itoa(i)+"]")
		}
	}
}

// isUnion tells cog's disjunction wrappers: every field is a pointer whose
// JSON name is a Go type name (`json:"Panel,omitempty"`).
func isUnion(t reflect.Type) bool {
	if t.NumField() == 0 {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if f.Type.Kind() != reflect.Pointer && f.Type.Kind() != reflect.Slice && f.Type.Kind() != reflect.Map || !isTypeName(name) {
			return false
		}
	}
	return true
}

func quoteAll(members []string, quote bool) []string {
	out := make([]string, len(members))
	for i, m := range members {
		if quote {
			out[i] = strconv.Quote(m)
		} else {
			out[i] = m
		}
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// typeMismatches finds JSON values of the wrong kind by walking the SDK's Go
// types. The SDK's decoders report some of these (a list that is not an
// array) at the enclosing object only; this names the field itself.
func typeMismatches(t reflect.Type, raw json.RawMessage, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if raw == nil || string(raw) == "null" {
		return
	}
	got := jsonKind(raw)
	want := ""
	switch t.Kind() {
	case reflect.Interface:
		return // a variant (options, targets): its own decoder checks it
	case reflect.Struct:
		if isUnion(t) {
			forMember(t, raw, path, out, typeMismatches)
			return
		}
		want = "object"
	case reflect.Slice, reflect.Array:
		want = "array"
	case reflect.Map:
		want = "object"
	case reflect.String:
		want = "string"
	case reflect.Bool:
		want = "boolean"
	default:
		want = "number"
	}
	if got != want {
		*out = append(*out, fmt.Sprintf("%s: wrong type: got %s, want %s", path, got, want))
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(raw, &fields)
		for i := 0; i < t.NumField(); i++ {
			name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
			if sub, ok := fields[name]; ok && name != "" && name != "-" {
				typeMismatches(t.Field(i).Type, sub, join(path, name), out)
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items)
		for i, item := range items {
			typeMismatches(t.Elem(), item, path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		var items map[string]json.RawMessage
		_ = json.Unmarshal(raw, &items)
		for k, item := range items {
			typeMismatches(t.Elem(), item, join(path, k), out)
		}
	}
}

func jsonKind(raw json.RawMessage) string {
	switch s := strings.TrimSpace(string(raw)); {
	case s == "":
		return "nothing"
	case s[0] == '{':
		return "object"
	case s[0] == '[':
		return "array"
	case s[0] == '"':
		return "string"
	case s == "true" || s == "false":
		return "boolean"
	default:
		return "number"
	}
}

// refineTypeErrors replaces the SDK's "wrong type" reports made at an
// enclosing path by the walker's reports on the field itself.
func refineTypeErrors(problems, precise []string) []string {
	out := problems[:0:0]
	for _, p := range problems {
		k := strings.Index(p, ": wrong type: ")
		replaced := false
		if strings.HasPrefix(p, topLevel+": ") && len(precise) > 0 { // no path from the SDK
			out = append(out, precise...)
			continue
		}
		if k >= 0 {
			at := p[:k]
			for _, q := range precise {
				if strings.HasPrefix(q, at+".") || strings.HasPrefix(q, at+"[") {
					out, replaced = append(out, q), true
				}
			}
		}
		if !replaced {
			out = append(out, p)
		}
	}
	return out
}
