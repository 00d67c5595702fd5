//! The fake's S3: pre-signed-looking upload and download URLs on the fake's own
//! server, part `PUT`s checked as S3 checks a pre-signed request (signature,
//! expiry, `Content-Type` and `x-amz-acl` as signed, the exact byte count), with
//! S3's XML errors and statuses, and downloads of the stored bytes with `Range`
//! support (`206` + `Content-Range`, `416`), or without it on request.
//!
//! Expiry runs on tokio's clock, so a paused-clock test can let a URL expire.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Method};
use sha2::Sha256;
use tokio::time::Instant;

use crate::message::{Payload, Query, Reply};
use crate::paths;
use crate::pattern::mix;
use crate::state::{Content, Status};

// Where the crate's API has always offered it: these are the bytes storage serves.
pub use crate::pattern::patterned_bytes;

/// Splits `size` bytes into parts of at most `part_size`, as evenly as the
/// guide's example (50645990 bytes → 16881997, 16881997, 16881996).
pub(crate) fn split(size: u64, part_size: u64) -> Vec<u64> {
    let count = size.div_ceil(part_size.max(1)).max(1);
    let (base, extra) = (size / count, size % count);
    (0..count).map(|i| base + u64::from(i < extra)).collect()
}

/// Signs and checks the fake's pre-signed URLs.
#[derive(Debug)]
pub(crate) struct Signer {
    key: String,
    ttl: Duration,
    issued: HashMap<String, Instant>,
}

/// What a URL's check found wrong, as S3 says it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    SignatureDoesNotMatch,
    Expired,
}

impl Signer {
    pub fn new(key: String, ttl: Duration) -> Self {
        Self { key, ttl, issued: HashMap::new() }
    }

    pub fn set_ttl(&mut self, ttl: Duration) {
        self.ttl = ttl;
    }

    fn sign(&self, method: &Method, path: &str, date: &str, expires: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(format!("{method}\n{path}\n{date}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `base` + `path` + a pre-signed query; `extra` query pairs come first.
    pub fn url(&mut self, base: &str, method: &Method, path: &str, extra: &[(&str, &str)]) -> String {
        let now = chrono::Utc::now();
        let date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let expires = self.ttl.as_secs().max(1).to_string();
        let signature = self.sign(method, path, &date, &expires);
        self.issued.insert(signature.clone(), Instant::now());
        let credential = format!("FAKEAKIAFRAMEIO/{}/us-east-1/s3/aws4_request", now.format("%Y%m%d"));
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        query
            .append_pair("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
            .append_pair("X-Amz-Credential", &credential)
            .append_pair("X-Amz-Date", &date)
            .append_pair("X-Amz-Expires", &expires)
            .append_pair(
                "X-Amz-SignedHeaders",
                if *method == Method::PUT { "content-type;host;x-amz-acl" } else { "host" },
            )
            .append_pair("X-Amz-Signature", &signature);
        format!("{base}{path}?{}", query.finish())
    }

    /// Checks a request's pre-signed query.
    pub fn check(&self, method: &Method, path: &str, query: &Query) -> Result<(), Rejection> {
        let (Some(date), Some(expires), Some(signature)) =
            (query.get("X-Amz-Date"), query.get("X-Amz-Expires"), query.get("X-Amz-Signature"))
        else {
            return Err(Rejection::SignatureDoesNotMatch);
        };
        if self.sign(method, path, date, expires) != signature {
            return Err(Rejection::SignatureDoesNotMatch);
        }
        let issued = self.issued.get(signature).ok_or(Rejection::SignatureDoesNotMatch)?;
        let ttl = expires.parse::<u64>().map(Duration::from_secs).map_err(|_| Rejection::SignatureDoesNotMatch)?;
        if Instant::now().saturating_duration_since(*issued) > ttl {
            return Err(Rejection::Expired);
        }
        Ok(())
    }
}

/// Pre-signed `PUT` URLs for these parts (numbered from 1) of `file_id`'s upload, as S3's `UploadPart`.
pub(crate) fn part_urls(
    shared: &crate::Shared,
    file_id: &str,
    numbers: impl IntoIterator<Item = usize>,
) -> Vec<String> {
    let mut signer = crate::lock(&shared.signer);
    numbers
        .into_iter()
        .map(|n| {
            let path = paths::upload_part_path(file_id, n);
            signer.url(&shared.base_url, &Method::PUT, &path, &[("x-id", "UploadPart")])
        })
        .collect()
}

/// An S3 XML error.
pub(crate) fn s3_error(status: u16, code: &str, message: &str) -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>FAKE{:012X}</RequestId></Error>",
        mix(u64::from(status)) & 0xFFFF_FFFF_FFFF
    );
    Reply::new(status).header("content-type", "application/xml").body(Payload::Bytes(Bytes::from(body)))
}

pub(crate) fn rejection_reply(rejection: Rejection) -> Reply {
    match rejection {
        Rejection::SignatureDoesNotMatch => s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ),
        Rejection::Expired => s3_error(403, "AccessDenied", "Request has expired"),
    }
}

/// Checks a part `PUT` against what was signed; `Ok` carries nothing, the caller stores the bytes.
pub(crate) fn check_part(headers: &HeaderMap, media_type: &str, expected: u64, received: u64) -> Result<(), Reply> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("transfer-encoding").is_some() {
        return Err(s3_error(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented: Transfer-Encoding",
        ));
    }
    let Some(declared) = header("content-length").and_then(|v| v.parse::<u64>().ok()) else {
        return Err(s3_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header."));
    };
    let content_type = header("content-type").unwrap_or_default();
    if content_type != media_type || header("x-amz-acl") != Some("private") || declared != expected {
        return Err(rejection_reply(Rejection::SignatureDoesNotMatch));
    }
    if received != declared {
        return Err(s3_error(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        ));
    }
    Ok(())
}

/// What a download serves.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub content: Content,
    pub etag: String,
    pub status: Status,
}

/// A byte range of a download, inclusive.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header the way S3 does: one `bytes=` range or none (several ranges,
/// or a malformed header, get the whole object).
fn parse_range(header: Option<&str>, size: u64) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Range::Whole };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((start, end)) = spec.split_once('-') else { return Range::Whole };
    let (start, end) = (start.trim(), end.trim());
    match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (None, Some(suffix)) if start.is_empty() => {
            if suffix == 0 || size == 0 {
                Range::Unsatisfiable
            } else {
                Range::Part(size.saturating_sub(suffix), size - 1)
            }
        }
        (Some(first), None) if end.is_empty() => {
            if first >= size {
                Range::Unsatisfiable
            } else {
                Range::Part(first, size - 1)
            }
        }
        (Some(first), Some(last)) if first <= last => {
            if first >= size {
                Range::Unsatisfiable
            } else {
                Range::Part(first, last.min(size - 1))
            }
        }
        _ => Range::Whole,
    }
}

/// Serves `stored` for a `GET` or `HEAD`, honouring `Range` unless `ignore_range`.
pub(crate) fn download(stored: &Stored, headers: &HeaderMap, query: &Query, ignore_range: bool) -> Reply {
    let payload = |start: u64, end_exclusive: u64| match &stored.content {
        Content::Bytes(bytes) => Payload::Bytes(bytes.slice(start as usize..end_exclusive as usize)),
        Content::Pattern { seed } => Payload::Pattern { seed: *seed, start, end: end_exclusive },
        Content::None => Payload::Empty,
    };
    let disposition = query
        .get("response-content-disposition")
        .map(str::to_string)
        .unwrap_or_else(|| format!("attachment; filename=\"{}\"", stored.name.replace('"', "")));
    let base = |status: u16| {
        let reply = Reply::new(status)
            .header("content-type", &stored.media_type)
            .header("etag", &stored.etag)
            .header("content-disposition", &disposition);
        if ignore_range { reply } else { reply.header("accept-ranges", "bytes") }
    };
    let range = if ignore_range {
        Range::Whole
    } else {
        parse_range(headers.get("range").and_then(|v| v.to_str().ok()), stored.size)
    };
    match range {
        Range::Whole => base(200).body(payload(0, stored.size)),
        Range::Part(first, last) => base(206)
            .header("content-range", &format!("bytes {first}-{last}/{}", stored.size))
            .body(payload(first, last + 1)),
        Range::Unsatisfiable => {
            let error = s3_error(416, "InvalidRange", "The requested range is not satisfiable");
            error.header("content-range", &format!("bytes */{}", stored.size))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_like_the_guide_example() {
        assert_eq!(split(50_645_990, 20 * 1024 * 1024), [16_881_997, 16_881_997, 16_881_996]);
        assert_eq!(split(10, 100), [10]);
        assert_eq!(split(0, 100), [0]);
    }

    #[test]
    fn ranges_follow_rfc_9110_and_s3() {
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Range::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Range::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Range::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Range::Part(0, 99));
        assert_eq!(parse_range(Some("bytes=95-500"), 100), Range::Part(95, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Range::Whole);
        assert_eq!(parse_range(Some("bytes=9-2"), 100), Range::Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), Range::Whole);
        assert_eq!(parse_range(None, 100), Range::Whole);
    }
}
