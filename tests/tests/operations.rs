//! Every operation in the published documents (and the supplementary ones) is in
//! the generated client: derived from `openapi/`, never from a hand-written list.

use std::path::{Path, PathBuf};

use frameio_gen::Operation;
use saphyr::{LoadableYamlNode, Yaml};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// (METHOD, path) of every operation in the YAML documents under `dir`.
fn published(dir: &str) -> Vec<(String, String)> {
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
            for (method, _) in item.as_mapping().unwrap() {
                out.push((method.as_str().unwrap().to_uppercase(), p.as_str().unwrap().to_string()));
            }
        }
    }
    out.sort();
    out
}

fn assert_generated(dirs: &[&str], table: &[Operation], source: &str, expected: usize) {
    let ops: Vec<_> = dirs.iter().filter(|d| workspace().join(d).is_dir()).flat_map(|d| published(d)).collect();
    assert!(ops.len() >= expected, "found only {} published operations in {dirs:?}", ops.len());
    let source = std::fs::read_to_string(workspace().join(source)).unwrap();
    for (method, path) in &ops {
        let op = table
            .iter()
            .find(|op| format!("{:?}", op.method) == *method && op.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is missing from the generated operation table"));
        assert!(source.contains(&format!("pub fn {}(", op.name)), "the client has no method `{}`", op.name);
    }
    assert_eq!(table.len(), ops.len(), "the generated table has operations the documents do not");
}

#[test]
fn every_v4_operation_is_generated() {
    assert_generated(
        &["openapi/v4", "openapi/supplementary/v4"],
        frameio_gen::v4::operations::OPERATIONS,
        "frameio-gen/src/generated/v4.rs",
        88,
    );
}

#[test]
fn every_c2c_operation_is_generated() {
    assert_generated(
        &["openapi/c2c"],
        frameio_gen::c2c::operations::OPERATIONS,
        "frameio-gen/src/generated/c2c.rs",
        16,
    );
}
