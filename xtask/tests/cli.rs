//! Bad input to `cargo xtask regen`: each case exits non-zero with an error naming
//! the file and the JSON pointer.

use std::path::PathBuf;
use std::process::Command;

const GOOD: &str = "openapi: 3.1.0
info: {title: v4, version: 1.0.0}
paths:
  /v4/me:
    get:
      operationId: show
      tags: [subpackage_users]
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {$ref: '#/components/schemas/User'}
components:
  schemas:
    User:
      type: object
      properties:
        id: {type: string}
";

/// A throwaway workspace with the given V4 documents; returns its root.
fn workspace(case: &str, docs: &[(&str, &str)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("xtask-cli-{case}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("openapi/v4")).unwrap();
    for (name, text) in docs {
        std::fs::write(root.join("openapi/v4").join(name), text).unwrap();
    }
    root
}

fn regen_fails(case: &str, docs: &[(&str, &str)]) -> String {
    let root = workspace(case, docs);
    let out =
        Command::new(env!("CARGO_BIN_EXE_xtask")).args(["regen", "--check", "--root"]).arg(&root).output().unwrap();
    let _ = std::fs::remove_dir_all(&root);
    assert!(!out.status.success(), "regen accepted the {case} input");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn malformed_yaml() {
    let err = regen_fails("yaml", &[("001-me.yaml", "openapi: 3.1.0\npaths: {/v4/me: [\n")]);
    assert!(err.contains("openapi/v4/001-me.yaml#: malformed YAML"), "{err}");
}

#[test]
fn dangling_ref() {
    let doc = GOOD.replace("#/components/schemas/User'", "#/components/schemas/Nobody'");
    let err = regen_fails("ref", &[("001-me.yaml", &doc)]);
    assert!(
        err.contains("openapi/v4/001-me.yaml#/paths/~1v4~1me/get/responses/200/content/application~1json/schema/$ref"),
        "{err}"
    );
    assert!(err.contains("does not resolve"), "{err}");
}

#[test]
fn unknown_3_1_keyword() {
    let doc = GOOD.replace("id: {type: string}", "id: {type: string, contentEncoding: base64}");
    let err = regen_fails("keyword", &[("001-me.yaml", &doc)]);
    assert!(err.contains("openapi/v4/001-me.yaml#/components/schemas/User/properties/id"), "{err}");
    assert!(err.contains("contentEncoding"), "{err}");
}

#[test]
fn component_name_collision() {
    let other = GOOD.replace("/v4/me", "/v4/you").replace("id: {type: string}", "id: {type: integer}");
    let err = regen_fails("collision", &[("001-me.yaml", GOOD), ("002-you.yaml", &other)]);
    assert!(err.contains("openapi/v4/002-you.yaml#/components/schemas/User"), "{err}");
    assert!(err.contains("openapi/v4/001-me.yaml"), "{err}");
}

#[test]
fn operation_name_collision() {
    let other = GOOD.replace("/v4/me", "/v4/users/me");
    let err = regen_fails("names", &[("001-me.yaml", GOOD), ("002-me.yaml", &other)]);
    assert!(err.contains("openapi/v4/002-me.yaml#/paths/~1v4~1users~1me/get"), "{err}");
    assert!(err.contains("users_show"), "{err}");
}
