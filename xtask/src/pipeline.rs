//! The pipeline for one API: load → merge → name → downgrade → repair → generate.
//!
//! An API is one more entry in [`APIS`], not a second pipeline.

use std::path::Path;

use crate::error::SpecError;
use crate::generate::Generated;
use crate::{downgrade, ext_client, generate, load, merge, name, repair};

/// One API: where its documents are and where its generated code goes.
#[derive(Debug)]
pub struct Api {
    /// Module name in `frameio-gen` and file stem of every output.
    pub name: &'static str,
    /// The frameio-ext client its operations become methods of.
    pub client: &'static str,
    /// Folders of input documents, relative to the workspace; missing folders are skipped.
    pub inputs: &'static [&'static str],
    /// The named repairs this API's published documents need.
    pub repairs: &'static [repair::Repair],
}

/// Every API the workspace generates.
pub const APIS: &[Api] = &[
    Api {
        name: "v4",
        client: "crate::Client",
        inputs: &["openapi/v4", "openapi/supplementary/v4"],
        repairs: repair::V4,
    },
    Api { name: "c2c", client: "crate::c2c::C2cClient", inputs: &["openapi/c2c"], repairs: repair::C2C },
];

/// Everything `regen` writes for one API, as (path relative to the workspace, contents).
pub fn run(root: &Path, api: &Api) -> Result<Vec<(String, String)>, SpecError> {
    let mut docs = Vec::new();
    for dir in api.inputs.iter().filter(|d| root.join(d).is_dir()) {
        docs.extend(load::load_dir(root, dir)?);
    }
    let merged = merge::merge(&docs)?;
    let (mut doc, origins) = (merged.doc, merged.origins);
    name::name_operations(&mut doc, &origins)?;
    downgrade::downgrade(&mut doc, &origins)?;
    repair::apply_all(&mut doc, &origins, api.repairs)?;
    let target = ext_client::Target { api: api.name, client: api.client };
    let Generated { client, operations, ext, mock } = generate::generate(&target, &doc, &origins)?;
    let spec = serde_json::to_string_pretty(&doc).expect("a JSON value always serialises") + "\n";
    Ok(vec![
        (format!("openapi/generated/{}.json", api.name), spec),
        (format!("frameio-gen/src/generated/{}.rs", api.name), client),
        (format!("frameio-gen/src/generated/{}_operations.rs", api.name), operations),
        (format!("frameio-gen/src/generated/{}_mock.rs", api.name), mock),
        (format!("frameio-ext/src/generated/{}.rs", api.name), ext),
    ])
}
