//! Cursor pagination as the getting-started guide describes it: `page_size`
//! (default 50, at most 100), an opaque `after` cursor, `links.next` as the
//! request's relative URL with every original query parameter kept and `after`
//! replaced, and `total_count` when `include_total_count=true`.
//!
//! Cursors are base64 with padding, like Frame.io's, so a client that does not
//! percent-decode and re-encode `links.next` properly is caught. A cursor is bound
//! to the listing (its path) that issued it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::message::Query;
use crate::pattern::mix;

/// The page size when the request sets none.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page size a request may ask for.
pub const MAX_PAGE_SIZE: usize = 100;

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// `links.next`: `None` on the last page.
    pub next: Option<String>,
    pub total_count: Option<i64>,
}

/// What the request asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRequest {
    pub offset: usize,
    pub size: usize,
    pub with_total: bool,
}

/// Reads `page_size`, `after` and `include_total_count`; the error is the 422 detail.
pub(crate) fn page_request(path: &str, query: &Query) -> Result<PageRequest, String> {
    let size = match query.get("page_size") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(size) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
            _ => return Err(format!("page_size: must be an integer from 1 to {MAX_PAGE_SIZE}, got {raw:?}")),
        },
    };
    let offset = match query.get("after") {
        None => 0,
        Some(cursor) => decode_cursor(path, cursor).ok_or("after: not a cursor this listing issued")?,
    };
    let with_total = match query.get("include_total_count") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(format!("include_total_count: must be true or false, got {other:?}")),
    };
    Ok(PageRequest { offset, size, with_total })
}

/// Cuts `all` into the requested page.
pub(crate) fn page<T>(path: &str, raw_query: Option<&str>, request: PageRequest, all: Vec<T>) -> Page<T> {
    let total = all.len();
    let end = request.offset.saturating_add(request.size).min(total);
    let items: Vec<T> = all.into_iter().skip(request.offset).take(end.saturating_sub(request.offset)).collect();
    let next = (end < total).then(|| next_link(path, raw_query, &encode_cursor(path, end)));
    Page { items, next, total_count: request.with_total.then(|| i64::try_from(total).unwrap_or(i64::MAX)) }
}

/// An empty page whose `links.next` points at `cursor` again (the repeated-cursor fault):
/// the request's own cursor, or the first page's when it had none.
pub(crate) fn repeated_cursor_page(path: &str, raw_query: Option<&str>, query: &Query) -> (String, Option<i64>) {
    let cursor = query.get("after").map(str::to_string).unwrap_or_else(|| encode_cursor(path, 0));
    let total = (query.get("include_total_count") == Some("true")).then_some(0);
    (next_link(path, raw_query, &cursor), total)
}

/// `path?<every parameter but after, as sent>&after=<cursor>`.
pub(crate) fn next_link(path: &str, raw_query: Option<&str>, cursor: &str) -> String {
    let mut kept: Vec<&str> = raw_query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("after"))
        .collect();
    let after = format!("after={}", form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>());
    kept.push(&after);
    format!("{path}?{}", kept.join("&"))
}

fn listing_key(path: &str) -> u64 {
    path.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| mix(h ^ u64::from(b)))
}

fn encode_cursor(path: &str, offset: usize) -> String {
    let mut raw = Vec::with_capacity(17);
    raw.push(1u8);
    raw.extend_from_slice(&(offset as u64).to_be_bytes());
    raw.extend_from_slice(&listing_key(path).to_be_bytes());
    STANDARD.encode(raw)
}

fn decode_cursor(path: &str, cursor: &str) -> Option<usize> {
    let raw = STANDARD.decode(cursor).ok()?;
    let (version, rest) = raw.split_first()?;
    if *version != 1 || rest.len() != 16 {
        return None;
    }
    let offset = u64::from_be_bytes(rest[..8].try_into().ok()?);
    let key = u64::from_be_bytes(rest[8..].try_into().ok()?);
    (key == listing_key(path)).then(|| usize::try_from(offset).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_only_on_its_own_listing() {
        let cursor = encode_cursor("/v4/a", 150);
        assert_eq!(decode_cursor("/v4/a", &cursor), Some(150));
        assert_eq!(decode_cursor("/v4/b", &cursor), None);
        assert_eq!(decode_cursor("/v4/a", "bm90IGEgY3Vyc29y"), None);
        assert_eq!(decode_cursor("/v4/a", "%%%"), None);
    }

    #[test]
    fn the_next_link_keeps_every_parameter_and_replaces_after() {
        let link = next_link("/v4/x", Some("include=creator%2Cproject&after=old&page_size=10"), "ab+/c==");
        assert_eq!(link, "/v4/x?include=creator%2Cproject&page_size=10&after=ab%2B%2Fc%3D%3D");
        assert_eq!(next_link("/v4/x", None, "c"), "/v4/x?after=c");
    }
}
