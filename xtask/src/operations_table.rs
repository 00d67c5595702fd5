//! The README's operations table: for each API, how many operations and paginated
//! lists it has, then one row per operation (HTTP method, path, the client method an
//! app calls, paginated or not, documented rate limit), written by `regen` between
//! [`START`] and [`END`] so `regen --check` fails when it is stale.

use std::fmt::Write;

use serde_json::Value;

use crate::error::SpecError;
use crate::walk;

pub const START: &str = "<!-- operations:start -->";
pub const END: &str = "<!-- operations:end -->";

/// One operation of the repaired document, as the table shows it.
#[derive(Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub method: String,
    pub path: String,
    pub paginated: bool,
    pub rate_limit: Option<String>,
}

/// The operations of one repaired document, sorted by client method name.
pub fn rows(doc: &Value) -> Vec<Row> {
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
    let mut doc = doc.clone();
    let mut rows = Vec::new();
    let _ = walk::operations(&mut doc, |o| {
        rows.push(Row {
            name: o.op["operationId"].as_str().unwrap_or_default().to_string(),
            method: o.method.to_uppercase(),
            path: o.path.to_string(),
            paginated: crate::pagination::is_paginated(o.op, &schemas),
            rate_limit: o.op.get("x-frameio-rate-limit").map(rate_limit),
        });
        Ok::<_, ()>(())
    });
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// `{calls, window_ms, scope}` → "100 per minute per account_user".
fn rate_limit(limit: &Value) -> String {
    let calls = limit["calls"].as_u64().unwrap_or_default();
    let scope = limit["scope"].as_str().unwrap_or_default();
    let window = match limit["window_ms"].as_u64().unwrap_or_default() {
        60_000 => "minute".to_string(),
        1_000 => "second".to_string(),
        ms if ms % 60_000 == 0 => format!("{} minutes", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{} seconds", ms / 1_000),
        ms => format!("{ms} ms"),
    };
    format!("{calls} per {window} per {scope}")
}

/// The heading an API's table has in the README.
pub fn title(api: &str) -> &str {
    match api {
        "v4" => "V4 API",
        "c2c" => "Camera to Cloud device API (C2C)",
        other => other,
    }
}

/// `v4: 98 operations, 27 paginated`.
pub fn summary(api: &str, rows: &[Row]) -> String {
    format!("{api}: {} operations, {} paginated", rows.len(), rows.iter().filter(|r| r.paginated).count())
}

/// The generated section (without its markers) for every API, by (title, rows).
pub fn render(apis: &[(&str, Vec<Row>)]) -> String {
    let mut out = String::from(
        "\n<!-- Written by `cargo xtask regen` from openapi/; `regen --check` fails when it is stale. -->\n",
    );
    for (title, rows) in apis {
        let lists = rows.iter().filter(|r| r.paginated).count();
        write!(out, "\n### {title}: {} operations, {lists} paginated\n\n", rows.len()).unwrap();
        out.push_str("| method | path | client method | paginated | rate limit |\n|---|---|---|---|---|\n");
        for r in rows {
            let limit = r.rate_limit.as_deref().unwrap_or("not documented");
            let paginated = if r.paginated { "yes" } else { "no" };
            writeln!(out, "| {} | `{}` | `{}` | {paginated} | {limit} |", r.method, r.path, r.name).unwrap();
        }
    }
    out.push('\n');
    out
}

/// `readme` with the text between the markers replaced by `section`.
pub fn splice(file: &str, readme: &str, section: &str) -> Result<String, SpecError> {
    let missing = || SpecError::new(file, "", format!("no `{START}` … `{END}` section for the operations table"));
    let start = readme.find(START).ok_or_else(missing)? + START.len();
    let end = readme[start..].find(END).ok_or_else(missing)? + start;
    Ok(format!("{}{section}{}", &readme[..start], &readme[end..]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        let page = json!({"type": "object", "properties": {"data": {"type": "array"}, "links": {}}});
        json!({
            "paths": {
                "/v4/me": {"get": {"operationId": "users_show", "responses": {"200": {}},
                    "x-frameio-rate-limit": {"calls": 100, "window_ms": 60000, "scope": "account_user"}}},
                "/v4/accounts": {"get": {"operationId": "accounts_index",
                    "parameters": [{"name": "after", "in": "query"}],
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}},
                    "x-frameio-rate-limit": {"calls": 5, "window_ms": 1000, "scope": "account_user"}}}
            },
            "components": {"schemas": {"Page": page}}
        })
    }

    #[test]
    fn one_row_per_operation_sorted_by_client_method() {
        let rows = rows(&doc());
        assert_eq!(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["accounts_index", "users_show"]);
        assert!(rows[0].paginated && !rows[1].paginated);
        assert_eq!(rows[0].rate_limit.as_deref(), Some("5 per second per account_user"));
        assert_eq!(summary("v4", &rows), "v4: 2 operations, 1 paginated");
        let text = render(&[("V4", rows)]);
        assert!(text.contains("### V4: 2 operations, 1 paginated"), "{text}");
        assert!(text.contains("| GET | `/v4/me` | `users_show` | no | 100 per minute per account_user |"), "{text}");
    }

    #[test]
    fn an_undocumented_limit_says_so() {
        let rows = vec![Row {
            name: "devices_me".into(),
            method: "GET".into(),
            path: "/v2/devices/me".into(),
            paginated: false,
            rate_limit: None,
        }];
        assert!(render(&[("C2C", rows)]).contains("| no | not documented |"));
        assert_eq!(
            rate_limit(&json!({"calls": 2, "window_ms": 7_200_000, "scope": "user"})),
            "2 per 120 minutes per user"
        );
    }

    #[test]
    fn splices_between_the_markers_and_needs_both() {
        let readme = format!("# T\n\nintro\n{START}\nold\n{END}\n\nafter\n");
        let out = splice("README.md", &readme, "\nnew\n").unwrap();
        assert_eq!(out, format!("# T\n\nintro\n{START}\nnew\n{END}\n\nafter\n"));
        assert_eq!(splice("README.md", &out, "\nnew\n").unwrap(), out, "splicing is idempotent");
        let err = splice("README.md", "# T\n", "x").unwrap_err();
        assert_eq!(err.file, "README.md");
        assert!(splice("README.md", &format!("{START} only"), "x").is_err());
    }
}
