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

fn regen(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).arg("--root").arg(root).output().unwrap()
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

/// Copies `openapi/` into a throwaway workspace: every repair needs the defect it fixes,
/// so only the whole published spec regenerates.
fn copy_of_the_spec(case: &str) -> PathBuf {
    let root = workspace(case, &[]);
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("openapi");
    for dir in ["v4", "c2c", "supplementary/v4"] {
        std::fs::create_dir_all(root.join("openapi").join(dir)).unwrap();
        for entry in std::fs::read_dir(spec.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                std::fs::copy(&path, root.join("openapi").join(dir).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    root
}

#[test]
fn the_operations_table_is_written_and_checked() {
    let root = copy_of_the_spec("table");
    let readme = "# W\n\n<!-- operations:start -->\n<!-- operations:end -->\n\nafter\n";
    std::fs::write(root.join("README.md"), readme).unwrap();
    let written = regen(&root, &["regen"]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let out = String::from_utf8_lossy(&written.stdout).into_owned();
    assert!(
        out.contains("v4: 98 operations, 27 paginated") && out.contains("c2c: 16 operations, 0 paginated"),
        "{out}"
    );
    let table = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(table.contains("| GET | `/v4/me` | `users_show` | no | 100 per minute per account_user |"), "{table}");
    assert!(table.ends_with("<!-- operations:end -->\n\nafter\n"), "{table}");
    assert!(regen(&root, &["regen", "--check"]).status.success(), "a fresh table passes the check");

    std::fs::write(root.join("README.md"), table.replace("`users_show`", "`users_me`")).unwrap();
    let stale = regen(&root, &["regen", "--check"]);
    let err = String::from_utf8_lossy(&stale.stderr).into_owned();
    assert!(!stale.status.success() && err.contains("README.md: +1 -1 lines"), "{err}");

    std::fs::write(root.join("README.md"), "# W\n").unwrap();
    let err = String::from_utf8_lossy(&regen(&root, &["regen", "--check"]).stderr).into_owned();
    assert!(err.contains("README.md#: no `<!-- operations:start -->`"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_mocks_are_written_and_checked() {
    let root = copy_of_the_spec("mocks");
    std::fs::write(root.join("README.md"), "<!-- operations:start -->\n<!-- operations:end -->\n").unwrap();
    let written = regen(&root, &["regen"]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let out = String::from_utf8_lossy(&written.stdout).into_owned();
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for api in ["v4", "c2c"] {
        let path = format!("frameio-gen/src/generated/{api}_mock.rs");
        assert!(out.contains(&format!("wrote {path}")), "{out}");
        let mock = std::fs::read_to_string(root.join(&path)).unwrap();
        assert!(mock.starts_with("// Generated by `cargo xtask regen`") && mock.contains("pub trait MockServerExt"));
        let committed = std::fs::read_to_string(workspace.join(&path)).unwrap();
        assert!(mock == committed, "{path} is not what regen emits from openapi/");
    }
    let v4 = std::fs::read_to_string(root.join("frameio-gen/src/generated/v4_mock.rs")).unwrap();
    assert!(v4.contains("fn folders_index<F>(&self, config_fn: F) -> ::httpmock::Mock<'_>"));
    assert!(v4.contains("pub fn ok(self, value: &types::FileAssetsWithIncludesResponse) -> Self"));
    let c2c = std::fs::read_to_string(root.join("frameio-gen/src/generated/c2c_mock.rs")).unwrap();
    assert_eq!(c2c.matches("form_urlencoded_tuple(name, text)").count(), 3, "the three form-encoded auth calls");

    let mock = root.join("frameio-gen/src/generated/c2c_mock.rs");
    std::fs::write(&mock, c2c.replace("fn devices_device_heartbeat<F>", "fn heartbeat<F>")).unwrap();
    let stale = regen(&root, &["regen", "--check"]);
    let err = String::from_utf8_lossy(&stale.stderr).into_owned();
    assert!(!stale.status.success() && err.contains("frameio-gen/src/generated/c2c_mock.rs: +"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}
