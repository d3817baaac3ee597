package main

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// constructors and defaulted (filled by schema_gen.go) give, for each SDK
// struct type, NewT() and the fields NewT() sets: the schema's defaults.
var (
	constructors map[reflect.Type]func() any
	defaulted    map[reflect.Type][]string
)

var panelType = reflect.TypeOf(dashboard.Panel{})

// withDefaults returns the dashboard with every absent field that has a
// schema default filled in with it, as CUE does when it unifies data with
// the schema (cue vet -c). The SDK's strict decoders (since v0.0.13 or so) otherwise
// report such fields as "required field is missing", which the schema does
// not say. Fields without a default stay absent and are still reported.
func withDefaults(raw []byte) []byte {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return raw
	}
	fill(reflect.TypeOf(dashboard.Dashboard{}), doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return raw
	}
	return out
}

func fill(t reflect.Type, v any) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if items, ok := v.([]any); ok {
			for _, item := range items {
				fill(t.Elem(), item)
			}
		}
		return
	case reflect.Map:
		if items, ok := v.(map[string]any); ok {
			for _, item := range items {
				fill(t.Elem(), item)
			}
		}
		return
	case reflect.Struct:
	default:
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	if isUnion(t) {
		if f, ok := t.FieldByName("RowPanel"); ok { // panels: by "type"
			if obj["type"] != "row" {
				f, _ = t.FieldByName("Panel")
			}
			fill(f.Type, obj)
		}
		return // other disjunctions: nothing to choose by
	}
	if names := defaulted[t]; len(names) > 0 {
		var defaults map[string]any
		if b, err := json.Marshal(constructors[t]()); err == nil {
			_ = json.Unmarshal(b, &defaults)
		}
		for _, name := range names {
			f, ok := t.FieldByName(name)
			if !ok {
				continue
			}
			key := jsonName(f)
			if _, present := obj[key]; !present && key != "" {
				if d, keep := normalize(f.Type, defaults[key]); keep {
					obj[key] = d
				}
			}
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := jsonName(f)
		if key == "" {
			continue
		}
		if _, present := obj[key]; !present && !strings.Contains(f.Tag.Get("json"), ",omitempty") {
			// A required field without default: CUE takes an open list
			// ([...T]) or map as empty, and a struct as the struct of its
			// own defaults (its own required fields are then reported).
			switch ft := f.Type; {
			case ft.Kind() == reflect.Slice:
				obj[key] = []any{}
			case ft.Kind() == reflect.Map:
				obj[key] = map[string]any{}
			case ft.Kind() == reflect.Struct && !isUnion(ft):
				obj[key] = map[string]any{}
			}
		}
		if sub, ok := obj[key]; ok {
			fill(f.Type, sub)
		}
	}
	if t == panelType {
		fillVariants(obj)
	}
}

// fillVariants fills in the defaults of a panel's parts whose type depends
// on the panel's type (options, fieldConfig.defaults.custom) or on its
// datasource's (targets).
func fillVariants(panel map[string]any) {
	kind, _ := panel["type"].(string)
	if cfg, ok := cog.ConfigForPanelcfgVariant(kind); ok {
		if cfg.OptionsUnmarshaler != nil {
			if o, err := cfg.OptionsUnmarshaler([]byte("{}")); err == nil && panel["options"] != nil {
				fill(reflect.TypeOf(o), panel["options"])
			}
		}
		if cfg.FieldConfigUnmarshaler != nil {
			if c, err := cfg.FieldConfigUnmarshaler([]byte("{}")); err == nil {
				if fc, ok := panel["fieldConfig"].(map[string]any); ok {
					if d, ok := fc["defaults"].(map[string]any); ok && d["custom"] != nil {
						fill(reflect.TypeOf(c), d["custom"])
					}
				}
			}
		}
	}
	targets, _ := panel["targets"].([]any)
	ds, _ := panel["datasource"].(map[string]any)
	hint, _ := ds["type"].(string)
	for _, target := range targets {
		q, err := cog.UnmarshalDataquery([]byte("{}"), hint)
		if hint == "" {
			if t, ok := target.(map[string]any); ok {
				if tds, ok := t["datasource"].(map[string]any); ok {
					own, _ := tds["type"].(string)
					q, err = cog.UnmarshalDataquery([]byte("{}"), own)
				}
			}
		}
		if err == nil && q != nil && q.DataqueryType() != "unknown" {
			fill(reflect.TypeOf(q), target)
		}
	}
}

// normalize mends a default as marshalled by the SDK: a nil slice (cog's
// rendering of CUE's `[]`) becomes [], and other nulls (an unset
// disjunction, a required field without default) are left out.
func normalize(t reflect.Type, v any) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		if t.Kind() == reflect.Slice {
			return []any{}, true
		}
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok || t.Kind() != reflect.Struct {
		return v, true
	}
	for i := 0; i < t.NumField(); i++ {
		key := jsonName(t.Field(i))
		if sub, present := obj[key]; present && key != "" {
			if n, keep := normalize(t.Field(i).Type, sub); keep {
				obj[key] = n
			} else {
				delete(obj, key)
			}
		}
	}
	return obj, true
}

func jsonName(f reflect.StructField) string {
	name := strings.Split(f.Tag.Get("json"), ",")[0]
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}
