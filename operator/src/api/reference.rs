//! The Store reference, `docs/reference/store.md`, written from the CRD.
//!
//! Generated rather than written by hand so that it cannot drift from the
//! schema the API server enforces: `crdgen` writes it next to the CRD, and
//! `operator/tests/operator/crd.rs` fails when the committed copy differs.
//!
//! Layout: the names and printer columns, the rules on the whole object, then
//! one table per object of the schema (depth first, so a section's children
//! follow it), each row a field with its type, default, whether it is
//! required, its validation (OpenAPI keywords and CEL messages) and its
//! description.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionVersion,
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, ValidationRule,
};
use serde_json::Value;

/// Where `crdgen` writes the reference, relative to the workspace root.
pub const REFERENCE_PATH: &str = "docs/reference/store.md";

/// Why the reference could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// A version of the CRD carries no schema to document.
    #[error("version {0} of the CRD has no openAPIV3Schema")]
    NoSchema(String),
}

/// The Store reference as Markdown, exactly as committed at [`REFERENCE_PATH`].
pub fn reference_markdown() -> Result<String, ReferenceError> {
    use kube::CustomResourceExt;
    render(&super::Store::crd())
}

/// The reference of any CRD: its names, then each version's columns and fields.
pub fn render(crd: &CustomResourceDefinition) -> Result<String, ReferenceError> {
    let mut out = header(crd);
    for version in &crd.spec.versions {
        let schema = version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .ok_or_else(|| ReferenceError::NoSchema(version.name.clone()))?;
        out.push_str(&version_section(crd, version, schema));
    }
    Ok(out)
}

/// Rule messages by the dotted path of the field they report on.
type Rules = BTreeMap<String, Vec<String>>;

/// Says where the file comes from, so that nobody edits it by hand.
const GENERATED: &str = "<!-- Generated from operator/src/api by `make crds` \
     (`cargo run -p operator --bin crdgen`); do not edit. -->";

fn header(crd: &CustomResourceDefinition) -> String {
    let mut lines = vec![
        format!("# {} reference", crd.spec.names.kind),
        String::new(),
        GENERATED.to_string(),
        String::new(),
        inline(&one_line(root_description(crd))),
        String::new(),
    ];
    lines.extend(names(crd));
    lines.push(String::new());
    lines.join("\n")
}

fn root_description(crd: &CustomResourceDefinition) -> &str {
    crd.spec
        .versions
        .iter()
        .filter_map(|v| v.schema.as_ref()?.open_api_v3_schema.as_ref())
        .find_map(|root| root.description.as_deref())
        .unwrap_or_default()
}

/// Kind, scope, short names, categories and versions, as a list.
fn names(crd: &CustomResourceDefinition) -> Vec<String> {
    let names = &crd.spec.names;
    let singular = names.singular.as_ref();
    let mut lines = vec![
        format!(
            "- **Kind:** `{}`, plural `{}`{}",
            names.kind,
            names.plural,
            singular
                .map(|s| format!(", singular `{s}`"))
                .unwrap_or_default()
        ),
        format!("- **Scope:** {}", crd.spec.scope),
    ];
    if let Some(short) = names.short_names.as_ref().filter(|s| !s.is_empty()) {
        let example = &short[0];
        lines.push(format!(
            "- **Short names:** {} (`kubectl get {example}`)",
            codes(short)
        ));
    }
    if let Some(categories) = names.categories.as_ref().filter(|c| !c.is_empty()) {
        let example = &categories[0];
        lines.push(format!(
            "- **Categories:** {} (`kubectl get {example}` lists every kind of the category)",
            codes(categories)
        ));
    }
    for v in &crd.spec.versions {
        let version = format!("{}/{}", crd.spec.group, v.name);
        lines.push(format!(
            "- **API version:** `{version}` ({})",
            version_flags(v)
        ));
    }
    lines
}

fn version_flags(v: &CustomResourceDefinitionVersion) -> String {
    let mut flags = vec![if v.served { "served" } else { "not served" }];
    if v.storage {
        flags.push("storage version");
    }
    if v.deprecated == Some(true) {
        flags.push("deprecated");
    }
    let subresources = v.subresources.as_ref();
    if subresources.is_some_and(|s| s.status.is_some()) {
        flags.push("status subresource");
    }
    if subresources.is_some_and(|s| s.scale.is_some()) {
        flags.push("scale subresource");
    }
    flags.join(", ")
}

fn version_section(
    crd: &CustomResourceDefinition,
    version: &CustomResourceDefinitionVersion,
    schema: &JSONSchemaProps,
) -> String {
    let kind = &crd.spec.names.kind;
    let mut rules = Rules::new();
    collect_rules(schema, "", &mut rules);
    let mut lines = vec![
        String::new(),
        format!("## {}/{}", crd.spec.group, version.name),
        String::new(),
    ];
    lines.extend(printer_columns(&crd.spec.names.plural, version));
    lines.extend(object_rules(kind, &rules_at(&rules, "")));
    lines.extend(legend());
    section(kind, "", schema, &rules, &mut lines);
    lines.join("\n") + "\n"
}

fn printer_columns(plural: &str, version: &CustomResourceDefinitionVersion) -> Vec<String> {
    let Some(columns) = version
        .additional_printer_columns
        .as_ref()
        .filter(|c| !c.is_empty())
    else {
        return Vec::new();
    };
    // An empty column reads as something missing: only when some column says more.
    let described = columns.iter().any(|c| c.description.is_some());
    let wide_note = if columns.iter().any(|c| c.priority.unwrap_or(0) > 0) {
        " (a column marked wide only with `-o wide`)"
    } else {
        ""
    };
    let mut lines = vec![
        "### Printer columns".to_string(),
        String::new(),
        format!("`kubectl get {plural}` shows, after NAME{wide_note}:"),
        String::new(),
        format!(
            "| Column | Type | JSONPath |{}",
            if described { " Description |" } else { "" }
        ),
        format!("|---|---|---|{}", if described { "---|" } else { "" }),
    ];
    lines.extend(columns.iter().map(|c| column_row(c, described)));
    lines.push(String::new());
    lines
}

fn column_row(c: &CustomResourceColumnDefinition, described: bool) -> String {
    let wide = if c.priority.unwrap_or(0) > 0 {
        " (wide)"
    } else {
        ""
    };
    let mut line = format!(
        "| {}{wide} | {} | {} |",
        cell(&c.name),
        cell(&c.type_),
        cell(&code(&c.json_path)),
    );
    if described {
        let description = cell(c.description.as_deref().unwrap_or_default());
        line.push_str(&format!(" {description} |"));
    }
    line
}

/// The rules that report on no field: they hold for the object as a whole.
fn object_rules(kind: &str, messages: &[String]) -> Vec<String> {
    if messages.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        format!("### Rules on the whole {kind}"),
        String::new(),
        "Checked by the API server when the object is written:".into(),
        String::new(),
    ];
    lines.extend(
        messages
            .iter()
            .map(|m| format!("- {}", inline(&one_line(m)))),
    );
    lines.push(String::new());
    lines
}

fn legend() -> Vec<String> {
    [
        "### Fields",
        "",
        "One table per object, its children after it.",
        "",
        "- **Default:** what the API server sets when the field is absent. `{}` means the object is \
         created empty and its fields then take their own defaults.",
        "- **Required:** the field must be set when its parent is.",
        "- **Validation:** checked by the API server when the object is written: OpenAPI keywords, \
         and CEL rules shown by the message `kubectl apply` reports. A rule is listed on the field \
         it reports on. `operator render` checks the same rules offline.",
        "",
    ]
    .map(String::from)
    .to_vec()
}

/// Writes the table of the object at `path`, then the sections of its object
/// fields, depth first.
fn section(
    title: &str,
    path: &str,
    schema: &JSONSchemaProps,
    rules: &Rules,
    lines: &mut Vec<String>,
) {
    let Some(properties) = schema.properties.as_ref().filter(|p| !p.is_empty()) else {
        return;
    };
    lines.push(format!("#### {}", code(title)));
    lines.push(String::new());
    if let Some(description) = schema.description.as_deref() {
        lines.push(inline(&one_line(description)));
        lines.push(String::new());
    }
    lines.push("| Field | Type | Default | Required | Validation | Description |".into());
    lines.push("|---|---|---|---|---|---|".into());
    let required = schema.required.as_deref().unwrap_or_default();
    for (name, child) in properties {
        let child_path = join(path, name);
        lines.push(row(
            name,
            &child_path,
            child,
            required.contains(name),
            rules,
        ));
    }
    lines.push(String::new());
    for (name, child) in properties {
        if let Some((object, path)) = object_of(child, &join(path, name)) {
            section(&path, &path, object, rules, lines);
        }
    }
}

fn row(name: &str, path: &str, schema: &JSONSchemaProps, required: bool, rules: &Rules) -> String {
    let field = match object_of(schema, path) {
        Some((_, section)) => format!("[{}]({})", code(name), anchor(&section)),
        None => code(name),
    };
    let mut validation: Vec<String> = constraints(schema);
    validation.extend(rules_at(rules, path));
    if let Some(items) = items_of(schema) {
        let each = constraints(items)
            .into_iter()
            .chain(rules_at(rules, &format!("{path}[]")));
        validation.extend(each.map(|c| format!("each item: {c}")));
    }
    format!(
        "| {field} | {} | {} | {} | {} | {} |",
        cell(&type_name(schema)),
        cell(&default_value(schema)),
        if required { "yes" } else { "no" },
        validation
            .iter()
            .map(|v| cell(v))
            .collect::<Vec<_>>()
            .join("<br>"),
        cell(schema.description.as_deref().unwrap_or_default()),
    )
}

fn rules_at(rules: &Rules, path: &str) -> Vec<String> {
    rules.get(path).cloned().unwrap_or_default()
}

/// The object whose fields get a section of their own, and that section's
/// path: the field itself, or the items of an array of objects (`path[]`).
fn object_of<'a>(schema: &'a JSONSchemaProps, path: &str) -> Option<(&'a JSONSchemaProps, String)> {
    let has_fields = |s: &JSONSchemaProps| s.properties.as_ref().is_some_and(|p| !p.is_empty());
    if has_fields(schema) {
        return Some((schema, path.to_string()));
    }
    items_of(schema)
        .filter(|items| has_fields(items))
        .map(|items| (items, format!("{path}[]")))
}

fn items_of(schema: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match schema.items.as_ref()? {
        JSONSchemaPropsOrArray::Schema(items) => Some(items),
        JSONSchemaPropsOrArray::Schemas(_) => None,
    }
}

fn map_values_of(schema: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match schema.additional_properties.as_ref()? {
        JSONSchemaPropsOrBool::Schema(values) => Some(values),
        JSONSchemaPropsOrBool::Bool(_) => None,
    }
}

fn type_name(schema: &JSONSchemaProps) -> String {
    if schema.x_kubernetes_int_or_string == Some(true) {
        return "integer or string".into();
    }
    let base = schema.type_.as_deref().unwrap_or("any");
    let described = match (base, items_of(schema), map_values_of(schema)) {
        ("array", Some(items), _) => format!("array of {}", type_name(items)),
        ("object", _, Some(values)) => format!("map of {}", type_name(values)),
        _ => base.to_string(),
    };
    match schema.format.as_deref() {
        Some(format) => format!("{described} ({format})"),
        None => described,
    }
}

/// The default as JSON, or `{}` when an empty object defaults to the same.
fn default_value(schema: &JSONSchemaProps) -> String {
    let Some(default) = schema.default.as_ref().map(|d| &d.0) else {
        return String::new();
    };
    let empty = Value::Object(Default::default());
    if default.is_object() && defaulted(schema, default.clone()) == defaulted(schema, empty) {
        return code("{}");
    }
    match default {
        Value::String(s) => code(s),
        other => code(&other.to_string()),
    }
}

/// `value` after the API server's defaulting: absent fields take their
/// defaults, recursively.
fn defaulted(schema: &JSONSchemaProps, value: Value) -> Value {
    let (Value::Object(object), Some(properties)) = (&value, schema.properties.as_ref()) else {
        return value;
    };
    let mut object = object.clone();
    for (name, child) in properties {
        let present = object
            .remove(name)
            .or_else(|| child.default.as_ref().map(|d| d.0.clone()));
        if let Some(v) = present {
            object.insert(name.clone(), defaulted(child, v));
        }
    }
    Value::Object(object)
}

/// The OpenAPI keywords that refuse a value, in words.
fn constraints(schema: &JSONSchemaProps) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = schema.enum_.as_ref() {
        let values: Vec<String> = values.iter().map(|v| code(&scalar(&v.0))).collect();
        out.push(format!("one of {}", values.join(", ")));
    }
    out.extend(range(schema));
    out.extend(bounds(schema.min_length, schema.max_length, "character"));
    if let Some(pattern) = schema.pattern.as_deref() {
        out.push(format!("matches {}", code(pattern)));
    }
    if let Some(step) = schema.multiple_of {
        out.push(format!("a multiple of {step}"));
    }
    out.extend(bounds(schema.min_items, schema.max_items, "item"));
    out.extend(bounds(
        schema.min_properties,
        schema.max_properties,
        "entry",
    ));
    out.extend(list_type(schema));
    if let Some(values) = map_values_of(schema) {
        out.extend(
            constraints(values)
                .into_iter()
                .map(|c| format!("each value: {c}")),
        );
    }
    out
}

fn range(schema: &JSONSchemaProps) -> Option<String> {
    let exclusive_min = schema.exclusive_minimum == Some(true);
    let exclusive_max = schema.exclusive_maximum == Some(true);
    if let (Some(min), Some(max), false, false) =
        (schema.minimum, schema.maximum, exclusive_min, exclusive_max)
    {
        return Some(format!("{min} to {max}"));
    }
    let above = if exclusive_min {
        "more than"
    } else {
        "at least"
    };
    let below = if exclusive_max {
        "less than"
    } else {
        "at most"
    };
    let parts: Vec<String> = [
        schema.minimum.map(|m| format!("{above} {m}")),
        schema.maximum.map(|m| format!("{below} {m}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// Bounds on a count (characters, items, entries).
fn bounds(min: Option<i64>, max: Option<i64>, unit: &str) -> Option<String> {
    let plural = |n: i64| match (n, unit) {
        (1, _) => unit.to_string(),
        (_, "entry") => "entries".to_string(),
        _ => format!("{unit}s"),
    };
    match (min, max) {
        (Some(min), Some(max)) => Some(format!("{min} to {max} {}", plural(max))),
        (Some(min), None) => Some(format!("at least {min} {}", plural(min))),
        (None, Some(max)) => Some(format!("at most {max} {}", plural(max))),
        (None, None) => None,
    }
}

fn list_type(schema: &JSONSchemaProps) -> Option<String> {
    match schema.x_kubernetes_list_type.as_deref()? {
        "map" => {
            let keys = schema
                .x_kubernetes_list_map_keys
                .as_deref()
                .unwrap_or_default();
            Some(format!("items unique by {}", codes(keys)))
        }
        "set" => Some("items unique".into()),
        _ => None,
    }
}

/// Gathers every CEL rule under the path of the field it reports on: its
/// `fieldPath` when that is a plain dotted path, else the object it sits on.
fn collect_rules(schema: &JSONSchemaProps, path: &str, rules: &mut Rules) {
    for rule in schema.x_kubernetes_validations.iter().flatten() {
        let target = match rule.field_path.as_deref().and_then(dotted) {
            Some(relative) => join(path, &relative),
            None => path.to_string(),
        };
        rules.entry(target).or_default().push(rule_text(rule));
    }
    for (name, child) in schema.properties.iter().flatten() {
        collect_rules(child, &join(path, name), rules);
    }
    if let Some(items) = items_of(schema) {
        collect_rules(items, &format!("{path}[]"), rules);
    }
}

/// `.a.b` as `a.b`; `None` for paths with subscripts, which stay on the object.
fn dotted(field_path: &str) -> Option<String> {
    let relative = field_path.strip_prefix('.')?;
    let plain = relative.split('.').all(|part| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    plain.then(|| relative.to_string())
}

fn rule_text(rule: &ValidationRule) -> String {
    match (rule.message.as_deref(), rule.message_expression.as_deref()) {
        (Some(message), _) => message.to_string(),
        (None, Some(expression)) => {
            format!("CEL {} (message: {})", code(&rule.rule), code(expression))
        }
        (None, None) => format!("CEL {}", code(&rule.rule)),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// GitHub's heading anchor: lowercase, punctuation other than `-` and `_`
/// dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    let slug: String = heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect();
    format!("#{slug}")
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A code span, fenced with two backticks when the text holds one.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn codes(items: &[String]) -> String {
    items.iter().map(|i| code(i)).collect::<Vec<_>>().join(", ")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a table cell: one line, `|` escaped everywhere (GitHub honours
/// `\|` inside code spans of a table too).
fn cell(text: &str) -> String {
    inline(&one_line(text)).replace('|', "\\|")
}

/// Escapes `<` and `>` outside code spans, so that `store-<name>` is shown
/// rather than taken for an HTML tag.
fn inline(text: &str) -> String {
    let mut in_code = false;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> String {
        reference_markdown().unwrap()
    }

    /// The row of `field` in the table of the object at `section`.
    fn row_of(markdown: &str, section: &str, field: &str) -> String {
        let heading = format!("#### `{section}`");
        let table = markdown
            .split(&format!("{heading}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no section {heading}"));
        let table = table.split("\n#### ").next().unwrap_or_default();
        table
            .lines()
            .find(|l| {
                l.starts_with(&format!("| `{field}` |"))
                    || l.starts_with(&format!("| [`{field}`]("))
            })
            .unwrap_or_else(|| panic!("no row {field} in {section}"))
            .to_string()
    }

    #[test]
    fn store_id_shows_its_pattern_length_and_immutability() {
        let row = row_of(&reference(), "spec", "storeId");
        assert!(
            row.contains(&format!(
                "matches `{}`",
                crate::api::syntax::STORE_ID_PATTERN
            )),
            "{row}"
        );
        assert!(row.contains("at most 63 characters"), "{row}");
        assert!(row.contains("spec.storeId is immutable"), "{row}");
        assert!(row.contains("| no |"), "{row}");
    }

    #[test]
    fn replicas_show_their_range_default_and_cross_field_rule() {
        let row = row_of(&reference(), "spec", "replicas");
        assert!(
            row.contains("| integer (int32) | `1` | no | 1 to 10<br>"),
            "{row}"
        );
        assert!(
            row.contains("spec.replicas greater than 1 requires spec.database.postgres"),
            "{row}"
        );
    }

    #[test]
    fn nested_fields_have_their_section_enum_and_defaults() {
        let md = reference();
        let slo = row_of(&md, "spec.monitoring.alerts.slo", "availabilityTarget");
        assert!(slo.contains("| `0.995` | no | 0.9 to 0.99999<br>"), "{slo}");
        let level = row_of(&md, "spec.telemetry", "logLevel");
        assert!(
            level.contains("one of `error`, `warn`, `info`, `debug`, `trace`"),
            "{level}"
        );
        let products = row_of(&md, "spec.catalog", "products");
        assert!(
            products.contains("[`products`](#speccatalogproducts)"),
            "{products}"
        );
        assert!(products.contains("items unique by `name`"), "{products}");
        let name = row_of(&md, "spec.catalog.products[]", "name");
        assert!(name.contains("| yes |"), "{name}");
    }

    #[test]
    fn an_object_default_is_shown_unless_it_is_only_its_fields_defaults() {
        let md = reference();
        assert!(row_of(&md, "spec", "monitoring").contains("| `{}` |"));
        let database = row_of(&md, "spec", "database");
        assert!(
            database.contains(r#"| `{"embedded":{"size":"1Gi"}}` |"#),
            "{database}"
        );
    }

    #[test]
    fn every_cel_message_of_the_crd_is_in_the_reference() {
        use kube::CustomResourceExt;
        let md = reference();
        let crd = serde_json::to_value(super::super::Store::crd()).unwrap();
        let mut messages = Vec::new();
        find_messages(&crd, &mut messages);
        assert!(messages.len() > 10, "found only {messages:?}");
        for message in messages {
            assert!(
                md.contains(&inline(&message).replace('|', "\\|")),
                "missing: {message}"
            );
        }
    }

    fn find_messages(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if key == "x-kubernetes-validations" {
                        out.extend(
                            v.as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|r| r["message"].as_str().map(String::from)),
                        );
                    }
                    find_messages(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| find_messages(v, out)),
            _ => {}
        }
    }

    #[test]
    fn cells_stay_one_line_and_do_not_break_the_table() {
        assert_eq!(
            cell("a |\n b <name> `x|<y>`"),
            r"a \| b &lt;name&gt; `x\|<y>`"
        );
        assert_eq!(anchor("spec.catalog.products[]"), "#speccatalogproducts");
        assert_eq!(code("a`b"), "`` a`b ``");
    }

    #[test]
    fn field_paths_with_subscripts_stay_on_their_object() {
        assert_eq!(dotted(".spec.storeId").as_deref(), Some("spec.storeId"));
        assert_eq!(dotted(".labels['a.b']"), None);
    }
}
