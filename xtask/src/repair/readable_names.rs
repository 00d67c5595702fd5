//! Parameter enums are published under path-derived names such as
//! `V4AccountsAccountIdFilesFileIdGetParametersInclude`, which become the Rust type a
//! caller must name (`.include(V4AccountsAccountIdFilesFileIdGetParametersInclude::Creator)`).
//! After duplicates merge, each gets a short name saying what it is; an
//! `...IncludeList` follows its item. A new path-derived name (`V4...Parameters...`)
//! without an entry here is an error, so it gets a name on purpose.

use serde_json::Value;

use super::Repair;
use crate::walk;

/// Published (post-dedupe) name → readable name.
const NAMES: &[(&str, &str)] = &[
    ("V4AccountsGetParametersSort", "AccountSort"),
    ("V4AccountsAccountIdUsersGetParametersSort", "AccountUserSort"),
    ("V4AccountsAccountIdAuditLogsGetParametersInclude", "AuditLogInclude"),
    ("V4AccountsAccountIdFilesFileIdCommentsGetParametersSort", "CommentSort"),
    ("V4AccountsAccountIdCommentsCommentIdGetParametersInclude", "CommentInclude"),
    ("V4AccountsAccountIdFilesFileIdCopyPostParametersCopyComments", "CopyComments"),
    ("V4AccountsAccountIdFoldersFolderIdFilesGetParametersSort", "AssetSort"),
    ("V4AccountsAccountIdFilesFileIdGetParametersInclude", "AssetInclude"),
    ("V4AccountsAccountIdFoldersFolderIdGetParametersInclude", "FolderInclude"),
    ("V4AccountsAccountIdGroupsGetParametersInclude", "GroupInclude"),
    ("V4AccountsAccountIdGroupsGetParametersSort", "GroupSort"),
    ("V4AccountsAccountIdProjectsProjectIdGetParametersInclude", "ProjectInclude"),
    ("V4AccountsAccountIdSharesShareIdReviewersGetParametersSort", "ReviewerSort"),
    ("V4AccountsAccountIdSharesShareIdAssetsGetParametersSort", "ShareAssetSort"),
    ("V4AccountsAccountIdWorkspacesGetParametersSort", "WorkspaceSort"),
];

pub const REPAIR: Repair = Repair {
    name: "readable_parameter_type_names",
    quirk: "parameter enums named after their path (`V4AccountsAccountIdFilesFileIdGetParametersInclude`)",
    apply: |doc, origins| {
        let names: Vec<String> =
            doc["components"]["schemas"].as_object().map(|s| s.keys().cloned().collect()).unwrap_or_default();
        let mut renames = Vec::new();
        for name in &names {
            let (base, suffix) = match name.strip_suffix("List") {
                Some(base) if names.contains(&base.to_string()) => (base, "List"),
                _ => (name.as_str(), ""),
            };
            match NAMES.iter().find(|(published, _)| *published == base) {
                Some((_, readable)) => renames.push((name.clone(), format!("{readable}{suffix}"))),
                None if base.starts_with("V4") && base.contains("Parameters") => {
                    let at = crate::error::pointer(["components", "schemas", name]);
                    return Err(
                        origins.error(&at, "a path-derived parameter type name: add it to readable_names::NAMES")
                    );
                }
                None => {}
            }
        }
        let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else { return Ok(()) };
        for (old, new) in &renames {
            if let Some(mut schema) = schemas.remove(old) {
                schema["title"] = Value::String(new.clone());
                schemas.insert(new.clone(), schema);
            }
        }
        walk::refs(doc, &mut |r| {
            let name = walk::ref_name(r)?;
            renames.iter().find(|(old, _)| old == name).map(|(_, new)| walk::ref_to(new))
        });
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn renames_the_enum_its_list_and_every_reference() {
        let mut doc = json!({
            "paths": {"/f": {"get": {"parameters": [{"name": "include", "in": "query", "schema": {"$ref": "#/components/schemas/V4AccountsAccountIdFilesFileIdGetParametersIncludeList"}}]}}},
            "components": {"schemas": {
                "V4AccountsAccountIdFilesFileIdGetParametersInclude": {"type": "string", "enum": ["creator"]},
                "V4AccountsAccountIdFilesFileIdGetParametersIncludeList": {"type": "array", "items": {"$ref": "#/components/schemas/V4AccountsAccountIdFilesFileIdGetParametersInclude"}}
            }}
        });
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["AssetIncludeList"]["items"]["$ref"], "#/components/schemas/AssetInclude");
        assert_eq!(schemas["AssetInclude"]["enum"], json!(["creator"]));
        assert_eq!(
            doc["paths"]["/f"]["get"]["parameters"][0]["schema"]["$ref"],
            "#/components/schemas/AssetIncludeList"
        );
    }

    #[test]
    fn an_unnamed_path_derived_type_is_an_error() {
        let mut doc =
            json!({"components": {"schemas": {"V4NewThingGetParametersSort": {"type": "string", "enum": ["a"]}}}});
        let err = (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap_err();
        assert!(err.message.contains("NAMES"), "{err}");
    }
}
