//! Load: read every published YAML document of one API into JSON values.

use std::path::Path;

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value};

use crate::error::SpecError;

/// One published document and where it came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// Path relative to the workspace root, as shown in errors.
    pub file: String,
    pub value: Value,
}

/// Reads every `*.yaml` in `dir` (sorted by name, so output is stable).
pub fn load_dir(root: &Path, dir: &str) -> Result<Vec<Document>, SpecError> {
    let full = root.join(dir);
    let entries =
        std::fs::read_dir(&full).map_err(|e| SpecError::new(dir, "", format!("cannot read the directory: {e}")))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| {
            let file = format!("{dir}/{name}");
            let text = std::fs::read_to_string(full.join(name))
                .map_err(|e| SpecError::new(&file, "", format!("cannot read: {e}")))?;
            parse(&file, &text)
        })
        .collect()
}

/// Parses one document and checks that it is OpenAPI 3.1.
pub fn parse(file: &str, text: &str) -> Result<Document, SpecError> {
    let mut docs = Yaml::load_from_str(text).map_err(|e| SpecError::new(file, "", format!("malformed YAML: {e}")))?;
    let yaml = match docs.len() {
        1 => docs.remove(0),
        n => return Err(SpecError::new(file, "", format!("expected one YAML document, found {n}"))),
    };
    let value = to_json(file, "", yaml)?;
    match value.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.1") => {}
        Some(v) => {
            return Err(SpecError::new(file, "/openapi", format!("expected OpenAPI 3.1.x, found {v}")));
        }
        None => {
            return Err(SpecError::new(file, "", "not an OpenAPI document (no `openapi` version)"));
        }
    }
    Ok(Document { file: file.to_string(), value })
}

/// YAML allows non-string keys (`200:`); JSON Schema does not, so they become strings.
fn to_json(file: &str, at: &str, yaml: Yaml<'_>) -> Result<Value, SpecError> {
    Ok(match yaml {
        Yaml::Value(scalar) => scalar_to_json(file, at, scalar)?,
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(file, &format!("{at}/{i}"), v))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Yaml::Value(Scalar::String(s)) => s.into_owned(),
                    Yaml::Value(Scalar::Integer(n)) => n.to_string(),
                    Yaml::Value(Scalar::Boolean(b)) => b.to_string(),
                    other => {
                        return Err(SpecError::new(file, at, format!("unsupported mapping key {other:?}")));
                    }
                };
                let child = format!("{at}/{}", crate::error::escape(&key));
                out.insert(key, to_json(file, &child, v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tag, _) => {
            return Err(SpecError::new(file, at, format!("unsupported YAML tag {tag}")));
        }
        other @ (Yaml::Representation(..) | Yaml::Alias(_) | Yaml::BadValue) => {
            return Err(SpecError::new(file, at, format!("unsupported YAML node {other:?}")));
        }
    })
}

fn scalar_to_json(file: &str, at: &str, scalar: Scalar<'_>) -> Result<Value, SpecError> {
    Ok(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(n) => Value::from(n),
        Scalar::FloatingPoint(f) => serde_json::Number::from_f64(f.into_inner())
            .map(Value::Number)
            .ok_or_else(|| SpecError::new(file, at, format!("unrepresentable number {f}")))?,
        Scalar::String(s) => Value::String(s.into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_yaml_names_the_file_and_line() {
        let err = parse("openapi/v4/x.yaml", "openapi: 3.1.0\npaths: [unclosed\n").unwrap_err();
        assert_eq!(err.file, "openapi/v4/x.yaml");
        assert!(err.message.starts_with("malformed YAML"), "{err}");
        assert!(err.message.contains("line"), "{err}");
    }

    #[test]
    fn one_document_per_file_and_no_tags() {
        let two = parse("a.yaml", "openapi: 3.1.0\n---\nopenapi: 3.1.0\n").unwrap_err();
        assert!(two.message.contains("found 2"), "{two}");
        let tagged = parse("a.yaml", "openapi: 3.1.0\nx: !custom 1\n").unwrap_err();
        assert_eq!((tagged.file.as_str(), tagged.pointer.as_str()), ("a.yaml", "/x"), "{tagged}");
    }

    #[test]
    fn scalars_keep_their_yaml_1_2_types() {
        let doc = parse("a.yaml", "openapi: 3.1.0\nv: 1.0.0\nf: 4.0\nn: ~\nb: no\ni: -3\n").unwrap();
        assert_eq!(doc.value["v"], "1.0.0");
        assert_eq!(doc.value["f"], 4.0);
        assert!(doc.value["n"].is_null());
        assert_eq!(doc.value["b"], "no", "YAML 1.2: `no` is a string");
        assert_eq!(doc.value["i"], -3);
    }

    #[test]
    fn rejects_documents_that_are_not_3_1() {
        let err = parse("a.yaml", "openapi: 3.0.3\npaths: {}\n").unwrap_err();
        assert_eq!(err.pointer, "/openapi");
        assert!(parse("a.yaml", "paths: {}\n").is_err());
    }

    #[test]
    fn integer_keys_become_strings() {
        let doc = parse("a.yaml", "openapi: 3.1.0\nresponses:\n  200: {description: ok}\n").unwrap();
        assert_eq!(doc.value["responses"]["200"]["description"], "ok");
    }
}
