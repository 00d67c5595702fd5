//! What the generator knows about each operation beyond its Rust signature: the
//! documented rate limit, a documented `api-version` header, whether repeating it
//! is safe, and whether it is a cursor-paginated list. Generated per API as
//! `operations::OPERATIONS`, and one constant per operation (`FILES_SHOW`).

use std::time::Duration;

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Method {
    GET,
    POST,
    PUT,
    PATCH,
    DELETE,
    HEAD,
    OPTIONS,
    TRACE,
}

impl Method {
    /// Whether repeating the request cannot change the outcome (RFC 9110 idempotent).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::POST | Method::PATCH)
    }
}

/// A documented rate limit: at most `calls` per `window`, counted per `scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub calls: u32,
    pub window: Duration,
    /// What the limit is counted per, as documented (e.g. `account_user`).
    pub scope: &'static str,
}

/// One operation of an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The Rust method name on the generated client, e.g. `files_show`.
    pub name: &'static str,
    pub method: Method,
    /// The path template, e.g. `/v4/accounts/{account_id}/files/{file_id}`.
    pub path: &'static str,
    pub rate_limit: Option<RateLimit>,
    /// The `api-version` header value this operation documents, if any.
    pub api_version: Option<&'static str>,
    /// Whether sending it twice has the effect of sending it once, so a failed
    /// attempt may be repeated: every method but `POST` and `PATCH`, plus the
    /// `POST`s the spec repairs mark safe (search, the C2C heartbeat).
    pub idempotent: bool,
    /// A cursor-paginated list (`after` parameter; `data` + `links` response).
    pub paginated: bool,
}

/// Finds an operation by name in a table sorted by name.
pub fn find(table: &'static [Operation], name: &str) -> Option<&'static Operation> {
    table.binary_search_by(|op| op.name.cmp(name)).ok().map(|i| &table[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v4_table_is_sorted_and_complete() {
        let table = crate::v4::operations::OPERATIONS;
        assert!(table.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(find(table, "files_show").map(|op| op.path), Some("/v4/accounts/{account_id}/files/{file_id}"));
        assert_eq!(find(table, "accounts_auditlog_index").and_then(|op| op.api_version), Some("4.0"));
        assert!(find(table, "nope").is_none());
        assert!(find(table, "search_search").is_some_and(|op| op.idempotent), "a read-only POST");
        assert!(find(table, "workspaces_create").is_some_and(|op| !op.idempotent));
        assert!(find(table, "files_show").is_some_and(|op| op.idempotent));
    }
}
