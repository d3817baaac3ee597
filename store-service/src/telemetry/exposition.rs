//! Classic Prometheus text format (0.0.4) from OpenMetrics text.
//!
//! prometheus-client writes OpenMetrics only. Scrapers that do not ask for it
//! (curl, promtool, older agents) get the classic format: no exemplars, no
//! `# UNIT`/`# EOF`, counters named with their `_total` suffix.

/// Whether an `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: &str) -> bool {
    accept.contains("application/openmetrics-text")
}

/// Converts OpenMetrics text to the classic text format.
pub fn openmetrics_to_classic(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_help: Option<(&str, &str)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            pending_help = Some((name, help));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "unknown"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "unknown" => (name.to_string(), "untyped"),
                other => (name.to_string(), other),
            };
            if let Some((_, help)) = pending_help.take() {
                out.push_str(&format!("# HELP {name} {help}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
        } else if line.starts_with('#') {
            // `# UNIT`, `# EOF`: OpenMetrics only.
        } else if !line.is_empty() {
            out.push_str(strip_exemplar(line));
            out.push('\n');
        }
    }
    out
}

/// Cuts ` # {exemplar} value` from a sample line, respecting quoted label values.
fn strip_exemplar(line: &str) -> &str {
    let mut labels_end = 0;
    if let Some(open) = line.find('{').filter(|&i| !line[..i].contains(' ')) {
        let (mut quoted, mut escaped) = (false, false);
        for (i, c) in line[open..].char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = !quoted,
                '}' if !quoted => {
                    labels_end = open + i;
                    break;
                }
                _ => {}
            }
        }
    }
    match line[labels_end..].find(" # ") {
        Some(i) => &line[..labels_end + i],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_negotiates_openmetrics() {
        assert!(wants_openmetrics(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
        ));
        assert!(!wants_openmetrics("text/plain;version=0.0.4"));
        assert!(!wants_openmetrics("*/*"));
    }

    #[test]
    fn counters_get_total_and_exemplars_go() {
        let om = "# HELP app_revenue Revenue.\n# TYPE app_revenue counter\n\
                  app_revenue_total{product_name=\"a # b}\"} 3.5\n\
                  # HELP d Duration.\n# TYPE d histogram\n# UNIT d seconds\n\
                  d_bucket{le=\"0.1\"} 2 # {trace_id=\"abc\"} 0.05 1.0\n# EOF\n";
        assert_eq!(
            openmetrics_to_classic(om),
            "# HELP app_revenue_total Revenue.\n# TYPE app_revenue_total counter\n\
             app_revenue_total{product_name=\"a # b}\"} 3.5\n\
             # HELP d Duration.\n# TYPE d histogram\nd_bucket{le=\"0.1\"} 2\n"
        );
    }

    #[test]
    fn unknown_becomes_untyped() {
        assert_eq!(
            openmetrics_to_classic("# TYPE x unknown\nx 1\n"),
            "# TYPE x untyped\nx 1\n"
        );
    }
}
