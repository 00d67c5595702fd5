//! Redaction: what the crate does to anything that came from a server or a
//! file before it is kept in an error, shown by `Debug`/`Display` or logged.
//!
//! Secrets reach the client in three shapes, and each is replaced by
//! `[redacted]`:
//!
//! * JSON members and form fields named like a credential (`access_token`,
//!   `refresh_token`, `client_secret`, `device_code`, `password`, ...; see
//!   [`SECRET_KEYS`]);
//! * query strings of URLs, which is where pre-signed storage URLs carry their
//!   signature (`X-Amz-Signature=...`) and the C2C socket its token;
//! * a bearer token the request carried, should the server echo it.
//!
//! Excerpts are also cut short ([`excerpt`]), so an error never holds a whole
//! response body.

use reqwest::Url;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Member and field names whose values are credentials, compared without
/// regard to case.
pub const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "device_code",
    "code_verifier",
    "password",
    "secret",
    "token",
    "authorization",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// How many characters of a body an excerpt keeps.
pub const EXCERPT_CHARS: usize = 200;

/// `text` with every credential-named JSON member or form field, every URL
/// query string and every occurrence of `also` (a token the request carried)
/// replaced by [`REDACTED`].
pub fn scrub(text: &str, also: Option<&str>) -> String {
    let mut out = scrub_queries(&scrub_members(text));
    if let Some(secret) = also.filter(|s| s.len() >= 4) {
        out = out.replace(secret, REDACTED);
    }
    out
}

/// The start of `body` on one line, scrubbed, at most [`EXCERPT_CHARS`]
/// characters (an ellipsis marks a cut).
pub fn excerpt(body: &[u8], also: Option<&str>) -> String {
    // Scrub before cutting, so a cut cannot split a secret from its name.
    let limit = body.len().min(16 * 1024);
    let text = String::from_utf8_lossy(&body[..limit]).split_whitespace().collect::<Vec<_>>().join(" ");
    let scrubbed = scrub(&text, also);
    match scrubbed.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &scrubbed[..end]),
        None if limit < body.len() => format!("{scrubbed}…"),
        None => scrubbed,
    }
}

/// A URL as it may be shown: scheme, host, port and path, with any query
/// replaced by [`REDACTED`] and any user info dropped.
pub fn url(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push('?');
        shown.push_str(REDACTED);
    }
    shown
}

/// Replaces the values of credential-named members: `"token": "v"` (JSON,
/// any spacing) and `token=v` (forms, query strings).
fn scrub_members(text: &str) -> String {
    // ASCII lowercasing keeps every byte offset.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    while let Some((key_end, value)) = next_secret(&lower, text, copied) {
        out.push_str(&text[copied..key_end + value.start]);
        out.push_str(REDACTED);
        copied = key_end + value.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The first credential-named member at or after `from`: where its name ends,
/// and its value's range relative to that end.
fn next_secret(lower: &str, text: &str, from: usize) -> Option<(usize, std::ops::Range<usize>)> {
    let mut best: Option<(usize, usize, std::ops::Range<usize>)> = None;
    for key in SECRET_KEYS {
        let mut search = from;
        while let Some(found) = lower[search..].find(key) {
            let at = search + found;
            if best.as_ref().is_some_and(|(b, _, _)| *b <= at) {
                break;
            }
            let end = at + key.len();
            search = end;
            let before = lower[..at].bytes().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                continue;
            }
            if let Some(value) = value_after(&text[end..]) {
                best = Some((at, end, value));
                break;
            }
        }
    }
    best.map(|(_, end, value)| (end, value))
}

/// The value after a member name: `": "v"`, `":"v"`, or `=v`.
fn value_after(after: &str) -> Option<std::ops::Range<usize>> {
    let bytes = after.as_bytes();
    if let Some(b'=') = bytes.first() {
        let len = after[1..].find(['&', ' ', '"', '\'', '<', '\n']).unwrap_or(after.len() - 1);
        return (len > 0).then(|| 1..1 + len);
    }
    let mut i = usize::from(bytes.first() == Some(&b'"'));
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return Some(start..j),
            _ => j += 1,
        }
    }
    Some(start..bytes.len())
}

/// Replaces the query of every `http(s)://` URL in `text`.
fn scrub_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        let candidate = &rest[start..];
        let is_url = candidate.starts_with("http://") || candidate.starts_with("https://");
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\'))
            .unwrap_or(candidate.len());
        let url = &candidate[..end];
        out.push_str(&rest[..start]);
        match url.find('?').filter(|_| is_url) {
            Some(q) => {
                out.push_str(&url[..=q]);
                out.push_str(REDACTED);
            }
            None => out.push_str(url),
        }
        // `end` is at least 4: "http" holds no delimiter.
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_members_named_like_credentials_are_redacted() {
        let body =
            r#"{"access_token": "eyJhbGci", "refresh_token":"rt-1", "token_type": "bearer", "expires_in": 28800}"#;
        let scrubbed = scrub(body, None);
        assert_eq!(
            scrubbed,
            r#"{"access_token": "[redacted]", "refresh_token":"[redacted]", "token_type": "bearer", "expires_in": 28800}"#
        );
        let escaped = scrub(r#"{"client_secret": "a\"b", "name": "x"}"#, None);
        assert_eq!(escaped, r#"{"client_secret": "[redacted]", "name": "x"}"#);
        assert_eq!(scrub(r#"{"DEVICE_CODE": "dc"}"#, None), r#"{"DEVICE_CODE": "[redacted]"}"#, "any case");
        assert_eq!(scrub(r#"{"tokenized": "keep"}"#, None), r#"{"tokenized": "keep"}"#, "not a prefix match");
        assert_eq!(scrub(r#"{"my_token": "keep"}"#, None), r#"{"my_token": "keep"}"#, "nor a suffix match");
    }

    #[test]
    fn form_fields_and_url_queries_are_redacted() {
        assert_eq!(
            scrub("grant_type=refresh_token&refresh_token=rt-9&client_secret=s3", None),
            "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]"
        );
        let body = r#"{"upload_urls": [{"url": "https://s3.example/b/k?X-Amz-Credential=AK&X-Amz-Signature=abc", "size": 1}]}"#;
        let scrubbed = scrub(body, None);
        assert!(!scrubbed.contains("abc") && !scrubbed.contains("AK"), "{scrubbed}");
        assert!(scrubbed.contains("https://s3.example/b/k?[redacted]"), "{scrubbed}");
        assert_eq!(scrub("see http://a.example/x for more", None), "see http://a.example/x for more");
        assert_eq!(scrub("httpx and http", None), "httpx and http");
    }

    #[test]
    fn an_echoed_token_is_redacted() {
        assert_eq!(scrub("bad token s3cr3t-tok", Some("s3cr3t-tok")), "bad token [redacted]");
    }

    #[test]
    fn excerpts_are_short_single_line_and_scrubbed() {
        assert_eq!(excerpt(b"<html>\n  <b>Bad  gateway</b>\n</html>", None), "<html> <b>Bad gateway</b> </html>");
        let long = "é".repeat(500);
        let cut = excerpt(long.as_bytes(), None);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(&[0xff, b'a'], None), "\u{fffd}a");
        let secret = format!(r#"{{"access_token": "{}"}}"#, "t".repeat(300));
        assert!(!excerpt(secret.as_bytes(), None).contains("ttt"), "scrubbed before it is cut");
    }

    #[test]
    fn urls_lose_their_query_and_user_info() {
        let u = Url::parse("https://user:pw@s3.example:8443/b/k?X-Amz-Signature=abc#f").unwrap();
        assert_eq!(url(&u), "https://s3.example:8443/b/k?[redacted]");
        assert_eq!(url(&Url::parse("https://api.frame.io/v4/me").unwrap()), "https://api.frame.io/v4/me");
    }
}
