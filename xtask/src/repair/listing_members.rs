//! Files and projects the API returns without members the spec requires. The
//! getting-started guide's pagination example (`001_924e7b08943247c0.txt:49` and
//! `002_ca67f33d460f59c7.txt:380`, char 18236; fixture
//! `v4/folders_children_200_pagination_example.json`, defect D01), an apparently verbatim
//! `GET …/folders/{folder_id}/children?include=project` response (real ids, a real
//! cursor, microsecond timestamps), has a file without `view_url` and an included
//! project without `status` and `view_url`, while `FileWithIncludes` requires
//! `view_url` and `ProjectWithIncludes` requires `status` and `view_url` (034 and
//! every document that publishes them). A required member the API omits fails the
//! whole page, so these three are optional.
//!
//! Runs after `dedupe_identical_schemas`: before it, the file schema exists in
//! several identical copies (`FileWithIncludes`, and the `AssetWithIncludes` member
//! inline in every listing document), and changing one would stop them merging.

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "listing_members_the_api_omits",
    quirk: "folder-children files without `view_url`, included projects without `status`/`view_url`, all required by the spec",
    apply: |doc, origins| {
        edit::unrequire(doc, origins, &edit::component("FileWithIncludes"), &["view_url"])?;
        edit::unrequire(doc, origins, &edit::component("ProjectWithIncludes"), &["status", "view_url"])
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn makes_the_omitted_members_optional() {
        let mut doc = json!({"components": {"schemas": {
            "FileWithIncludes": {"required": ["id", "view_url"]},
            "ProjectWithIncludes": {"required": ["id", "status", "view_url"]}
        }}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let s = &doc["components"]["schemas"];
        assert_eq!(s["FileWithIncludes"]["required"], json!(["id"]));
        assert_eq!(s["ProjectWithIncludes"]["required"], json!(["id"]));
    }
}
