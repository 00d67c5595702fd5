//! Repair: named transformations that fix what the published spec gets wrong.
//!
//! Each repair is one small function in its own module, with a comment giving the
//! evidence and a unit test that fails without it. They run in the order listed in
//! [`V4`] and [`C2C`], after the 3.1 → 3.0 downgrade and before generation.

mod api_version;
mod authorization;
mod c2c_asset_create_response;
mod c2c_autoversion_id;
mod c2c_device_status_paused;
mod c2c_ntsc;
mod c2c_nullable_actor;
mod c2c_project_type;
mod c2c_readable_names;
mod c2c_revoke_no_body;
mod c2c_token_poll_secret;
mod c2c_token_response;
mod c2c_tokenized_metadata;
mod c2c_undeclared_errors;
mod c2c_url_pairing_members;
mod dedupe_enums;
mod dedupe_schemas;
mod edit;
mod error_responses;
mod filters;
mod form_bodies;
mod formats;
mod include_lists;
mod listing_members;
mod local_upload_members;
mod no_content;
mod nullable_members;
mod prune;
mod rate_limits;
mod readable_names;
mod remote_upload_links;
mod safe_posts;
mod string_aliases;
mod unions;

pub use safe_posts::EXTENSION as SAFE_TO_RETRY;

use serde_json::Value;

use crate::error::SpecError;
use crate::merge::Origins;

/// One named transformation of the merged 3.0 document.
#[derive(Debug)]
pub struct Repair {
    /// Stable name, shown by `cargo xtask regen` and in the closing report.
    pub name: &'static str,
    /// The published quirk this repair fixes.
    pub quirk: &'static str,
    pub apply: fn(&mut Value, &Origins) -> Result<(), SpecError>,
}

/// The V4 API's repairs, in the order they run.
pub const V4: &[Repair] = &[
    authorization::REPAIR,
    api_version::REPAIR,
    dedupe_enums::REPAIR,
    formats::REPAIR,
    no_content::REPAIR,
    error_responses::REPAIR,
    string_aliases::REPAIR,
    filters::REPAIR,
    include_lists::REPAIR,
    rate_limits::REPAIR,
    safe_posts::REPAIR,
    unions::REPAIR,
    local_upload_members::REPAIR,
    remote_upload_links::REPAIR,
    dedupe_schemas::REPAIR,
    listing_members::REPAIR,
    nullable_members::REPAIR,
    prune::REPAIR,
    readable_names::REPAIR,
];

/// The Camera-to-Cloud device API's repairs, in the order they run.
pub const C2C: &[Repair] = &[
    authorization::REPAIR,
    dedupe_enums::REPAIR,
    formats::REPAIR,
    no_content::REPAIR,
    form_bodies::REPAIR,
    error_responses::C2C_REPAIR,
    c2c_undeclared_errors::REPAIR,
    c2c_revoke_no_body::REPAIR,
    c2c_token_response::REPAIR,
    c2c_url_pairing_members::REPAIR,
    c2c_token_poll_secret::REPAIR,
    c2c_asset_create_response::REPAIR,
    c2c_autoversion_id::REPAIR,
    c2c_tokenized_metadata::REPAIR,
    c2c_nullable_actor::REPAIR,
    c2c_ntsc::REPAIR,
    c2c_project_type::REPAIR,
    safe_posts::C2C_REPAIR,
    string_aliases::REPAIR,
    dedupe_schemas::REPAIR,
    prune::REPAIR,
    c2c_readable_names::REPAIR,
    c2c_device_status_paused::REPAIR,
];

/// Runs `repairs` in order.
pub fn apply_all(doc: &mut Value, origins: &Origins, repairs: &[Repair]) -> Result<(), SpecError> {
    repairs.iter().try_for_each(|r| (r.apply)(doc, origins))
}

/// Removes, from every operation, the parameters for which `drop` is true.
fn retain_parameters(doc: &mut Value, mut keep: impl FnMut(&Value) -> bool) {
    let _ = crate::walk::operations(doc, |o| {
        if let Some(Value::Array(params)) = o.op.get_mut("parameters") {
            params.retain(&mut keep);
        }
        Ok::<_, ()>(())
    });
}
