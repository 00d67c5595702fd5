//! C2C real-time uploads: an asset created with `is_realtime_upload` has no parts yet; the
//! device registers parts as its file grows (`POST .../realtime_upload/parts`: numbers from 1,
//! possibly skipped, each at least S3's 5 MiB but the final one, the final one with the whole
//! `asset_filesize`) and gets one pre-signed URL per part, in request order. The parts go to
//! the fake's storage like any other and are checked against their registered size; once a
//! final part was registered and every registered part has arrived, the file is assembled in
//! number order and is `uploaded`. An `asset_name` renames an asset created with only an
//! `extension`.

use std::sync::Arc;

use frameio_gen::c2c::types;

use super::{Device, detailed};
use crate::message::{Reply, Req};
use crate::{Shared, storage};

/// S3's smallest part but the last (5 MiB).
const MIN_PART: u64 = 5 * 1024 * 1024;
/// S3's largest part (5 GiB).
const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// S3's most parts.
const MAX_PARTS: i64 = 10_000;

fn invalid(detail: impl Into<String>) -> Reply {
    detailed(422, "Invalid Argument", &detail.into())
}

/// Answers an asset creation with `is_realtime_upload: true`.
pub(crate) fn create(shared: &Arc<Shared>, device: &Device, body: &types::AssetCreateRequest) -> Reply {
    let Some(media_type) = body.filetype.clone().filter(|t| !t.is_empty()) else {
        return invalid("filetype is required for a real-time upload");
    };
    let extension = body.extension.as_deref().map(|e| e.trim_start_matches('.')).filter(|e| !e.is_empty());
    let named = body.name.trim();
    let from_name = named.rsplit_once('.').map(|(_, ext)| ext).filter(|e| !e.is_empty());
    let (name, default_name) = match (named.is_empty(), from_name, extension) {
        (true, _, Some(ext)) => (format!("[new file].{ext}"), true),
        (false, Some(own), Some(ext)) if !own.eq_ignore_ascii_case(ext) => {
            return invalid("name: its extension must match `extension`");
        }
        (false, Some(_), _) => (named.to_string(), false),
        _ => return invalid("a real-time upload needs a name with an extension, or an extension"),
    };
    let created = {
        let mut store = shared.lock_store();
        let target = store.project_by_id(&device.project_id).map(|p| (p.account_id.clone(), p.root_folder_id.clone()));
        target.map(|(account, root)| store.add_realtime_upload(&account, &root, &name, &media_type, default_name))
    };
    let Some(Ok((file, events))) = created else {
        return detailed(404, "Not Found", "the device's project is gone");
    };
    shared.emit(events);
    let response = types::AssetCreateResponse {
        id: file.id,
        name: Some(file.name),
        type_: None,
        upload_urls: Vec::new(),
        extra: serde_json::Map::new(),
    };
    Reply::json(200, &response)
}

/// Answers `POST /v2/devices/assets/{asset_id}/realtime_upload/parts`.
pub(crate) fn register_parts(shared: &Arc<Shared>, device: &Device, req: &Req) -> Reply {
    let asset_id = req.path.split('/').nth(4).unwrap_or_default().to_string();
    let mut value: serde_json::Value = match serde_json::from_slice(&req.body) {
        Ok(value) => value,
        Err(e) => return invalid(format!("body: {e}")),
    };
    // The guides show bodies wrapped in `{"body": {...}}` as well as bare.
    if let Some(inner) = value.get_mut("body").map(serde_json::Value::take) {
        value = inner;
    }
    let body: types::RealtimeUploadPartsRequest = match serde_json::from_value(value) {
        Ok(body) => body,
        Err(e) => return invalid(format!("body: {e}")),
    };
    let parts = match checked_parts(&body, shared.lock_config().max_file_size) {
        Ok(parts) => parts,
        Err(detail) => return invalid(detail),
    };
    let in_project = shared
        .lock_store()
        .assets
        .get(&asset_id)
        .is_some_and(|a| a.project_id == device.project_id && a.file().is_some());
    if !in_project {
        return detailed(404, "Not Found", "no such asset in the device's project");
    }
    let total = body.asset_filesize.and_then(|n| u64::try_from(n).ok());
    let registered = shared.lock_store().register_realtime_parts(&asset_id, &parts, total, body.asset_name.as_deref());
    if let Err(refusal) = registered {
        return invalid(format!("{refusal:?}"));
    }
    let upload_urls = storage::part_urls(shared, &asset_id, parts.iter().map(|(number, _)| *number));
    Reply::json(200, &types::RealtimeUploadPartsResponse { upload_urls, extra: serde_json::Map::new() })
}

/// The parts as (number, size), checked against S3's limits and the guide's rules.
fn checked_parts(body: &types::RealtimeUploadPartsRequest, max_file_size: u64) -> Result<Vec<(usize, u64)>, String> {
    if body.parts.is_empty() {
        return Err("parts: at least one part is required".into());
    }
    let finals = body.parts.iter().filter(|p| p.is_final).count();
    if finals > 1 {
        return Err("parts: only one part can be final".into());
    }
    match body.asset_filesize {
        None if finals == 1 => return Err("asset_filesize is required with the final part".into()),
        Some(size) if !(1..=i64::try_from(max_file_size).unwrap_or(i64::MAX)).contains(&size) => {
            return Err(format!("asset_filesize: {size} is not between 1 and {max_file_size} (what this fake keeps)"));
        }
        _ => {}
    }
    body.parts
        .iter()
        .map(|part| {
            if !(1..=MAX_PARTS).contains(&part.number) {
                return Err(format!("parts: number {} is not between 1 and {MAX_PARTS}", part.number));
            }
            let size = u64::try_from(part.size).unwrap_or(0);
            if size == 0 || size > MAX_PART || (!part.is_final && size < MIN_PART) {
                return Err(format!(
                    "parts: part {} of {} bytes breaks S3's limits (at least {MIN_PART} but the final part, at most {MAX_PART})",
                    part.number, part.size
                ));
            }
            Ok((part.number as usize, size))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn part(number: i64, size: i64, is_final: bool) -> types::RealtimePart {
        serde_json::from_value(json!({"number": number, "size": size, "is_final": is_final})).unwrap()
    }

    fn request(parts: Vec<types::RealtimePart>, total: Option<i64>) -> types::RealtimeUploadPartsRequest {
        types::RealtimeUploadPartsRequest { asset_filesize: total, asset_name: None, parts }
    }

    #[test]
    fn parts_keep_to_s3s_limits_and_the_final_part_names_the_total() {
        let max = 1 << 40;
        let min = MIN_PART as i64;
        assert_eq!(checked_parts(&request(vec![part(1, min, false)], None), max), Ok(vec![(1, MIN_PART)]));
        assert_eq!(checked_parts(&request(vec![part(3, 10, true)], Some(min + 10)), max), Ok(vec![(3, 10)]));
        for bad in [
            request(vec![], None),
            request(vec![part(1, min - 1, false)], None),
            request(vec![part(0, min, false)], None),
            request(vec![part(10_001, min, false)], None),
            request(vec![part(1, 10, true)], None),
            request(vec![part(1, 10, true), part(2, 10, true)], Some(20)),
            request(vec![part(1, 10, true)], Some(max as i64 + 1)),
        ] {
            assert!(checked_parts(&bad, max).is_err(), "{bad:?}");
        }
    }
}
