//! Every operation in the published documents (and the supplementary ones) is in
//! the generated client, and every one that takes an `after` cursor is a paginated
//! list: derived from `openapi/`, never from a hand-written list.

use std::path::{Path, PathBuf};

use frameio_gen::Operation;
use saphyr::{LoadableYamlNode, Yaml};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One operation as a document declares it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Declared {
    method: String,
    path: String,
    /// It takes the `after` query parameter: a cursor-paginated list.
    cursor: bool,
}

/// Every operation in the YAML documents under `dir`.
fn published(dir: &str) -> Vec<Declared> {
    let dir = workspace().join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let docs = Yaml::load_from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = docs.first().unwrap_or_else(|| panic!("{}: no YAML document", path.display()));
        for (p, item) in doc["paths"].as_mapping().unwrap() {
            for (method, op) in item.as_mapping().unwrap() {
                let params =
                    op.as_mapping_get("parameters").and_then(Yaml::as_vec).map(Vec::as_slice).unwrap_or_default();
                let cursor =
                    params.iter().any(|p| p["in"].as_str() == Some("query") && p["name"].as_str() == Some("after"));
                out.push(Declared {
                    method: method.as_str().unwrap().to_uppercase(),
                    path: p.as_str().unwrap().to_string(),
                    cursor,
                });
            }
        }
    }
    out.sort();
    out
}

/// `expected`: how many operations the documents hold, and how many of them are lists.
fn assert_generated(dirs: &[&str], table: &[Operation], source: &str, expected: (usize, usize)) {
    let ops: Vec<_> = dirs.iter().filter(|d| workspace().join(d).is_dir()).flat_map(|d| published(d)).collect();
    let lists = ops.iter().filter(|op| op.cursor).count();
    assert_eq!((ops.len(), lists), expected, "operations and lists in {dirs:?}");
    let source = std::fs::read_to_string(workspace().join(source)).unwrap();
    // One space between tokens, however prettyplease broke the lines.
    let tokens = source.split_whitespace().collect::<Vec<_>>().join(" ");
    for declared in &ops {
        let Declared { method, path, cursor } = declared;
        let op = table
            .iter()
            .find(|op| format!("{:?}", op.method) == *method && op.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is missing from the generated operation table"));
        assert!(source.contains(&format!("pub fn {}(", op.name)), "the client has no method `{}`", op.name);
        assert_eq!(op.paginated, *cursor, "{method} {path} (`{}`): paginated in the table", op.name);
        if *cursor {
            let builder = op.name.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect::<String>();
            let list_impl = format!("crate::pagination::ListRequest<'a> for {builder}<'a>");
            assert!(tokens.contains(&list_impl), "`{}` takes a cursor but has no `ListRequest` impl", op.name);
        }
    }
    assert_eq!(table.len(), ops.len(), "the generated table has operations the documents do not");
}

#[test]
fn every_v4_operation_is_generated() {
    assert_generated(
        &["openapi/v4", "openapi/supplementary/v4"],
        frameio_gen::v4::operations::OPERATIONS,
        "frameio-gen/src/generated/v4.rs",
        (98, 27),
    );
}

#[test]
fn every_c2c_operation_is_generated() {
    assert_generated(
        &["openapi/c2c"],
        frameio_gen::c2c::operations::OPERATIONS,
        "frameio-gen/src/generated/c2c.rs",
        (16, 0),
    );
}
