//! S3's XML error documents, read just far enough to tell what went wrong.
//!
//! An S3 error body is a flat, fixed-shape document
//! (`<Error><Code>..</Code><Message>..</Message>..</Error>`) of a few hundred
//! bytes, and only two leaf elements matter; a dozen lines of string search
//! cover that without pulling an XML parser into the crate. Anything that does
//! not look like such a document yields `None`, never an error.

use std::fmt;

/// The longest error body read from storage; S3's are far smaller.
pub(crate) const MAX_ERROR_BODY: usize = 16 * 1024;

/// The longest message kept, so a misbehaving server cannot flood logs.
const MAX_MESSAGE_CHARS: usize = 300;

/// The `<Code>` and `<Message>` of an S3 error response.
///
/// ```
/// use frameio_ext::upload::S3Error;
///
/// let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>\
///             <Message>Request has expired</Message></Error>";
/// let err = S3Error::parse(body).unwrap();
/// assert_eq!(err.code, "AccessDenied");
/// assert_eq!(err.to_string(), "S3 AccessDenied: Request has expired");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    /// S3's error code, e.g. `AccessDenied`, `SlowDown`, `RequestTimeout`.
    pub code: String,
    /// S3's human-readable message, cut to a few hundred characters.
    pub message: Option<String>,
}

impl S3Error {
    /// Reads an S3 error document; `None` if `body` is not one.
    pub fn parse(body: &str) -> Option<Self> {
        let error = element(body, "Error")?;
        let code = unescape(element(error, "Code")?.trim());
        if code.is_empty() {
            return None;
        }
        let message = element(error, "Message").map(|m| tidy(&unescape(m.trim()))).filter(|m| !m.is_empty());
        Some(Self { code, message })
    }

    /// Whether this is S3's answer to a pre-signed URL used after its expiry
    /// (`AccessDenied`, "Request has expired"): a fresh URL is needed.
    pub fn is_expired(&self) -> bool {
        self.code == "AccessDenied"
            && self.message.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("expired"))
    }

    /// Whether S3 means "try again" (see [`STORAGE_RETRY_CODES`](crate::retry::STORAGE_RETRY_CODES)).
    pub fn is_transient(&self) -> bool {
        crate::retry::STORAGE_RETRY_CODES.contains(&self.code.as_str())
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 {}", self.code)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// The text between the first `<name>` and the following `</name>`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(&xml[start..start + len])
}

/// Replaces XML's five predefined entities; `&amp;` last so that `&amp;lt;`
/// stays `&lt;`.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Single-line, printable, and short.
fn tidy(text: &str) -> String {
    let flat: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).collect();
    if flat.chars().count() <= MAX_MESSAGE_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_code_and_message() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>SlowDown</Code>
  <Message>Please reduce your
     request rate &amp; try &lt;again&gt;.</Message>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>"#;
        let err = S3Error::parse(body).unwrap();
        assert_eq!(err.code, "SlowDown");
        assert_eq!(err.message.as_deref(), Some("Please reduce your request rate & try <again>."));
        assert!(err.is_transient());
    }

    #[test]
    fn message_is_optional_and_code_is_not() {
        let err = S3Error::parse("<Error><Code>AccessDenied</Code></Error>").unwrap();
        assert_eq!(err.message, None);
        assert!(!err.is_transient());
        assert!(!err.is_expired(), "a plain denial is not an expiry");
        let expired = S3Error::parse("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
        assert!(expired.unwrap().is_expired());
        assert_eq!(err.to_string(), "S3 AccessDenied");
        assert_eq!(S3Error::parse("<Error><Message>x</Message></Error>"), None);
        assert_eq!(S3Error::parse("<Error><Code> </Code></Error>"), None);
    }

    #[test]
    fn anything_else_is_not_an_s3_error() {
        for body in ["", "Service Unavailable", "{\"errors\":[]}", "<Code>NoError</Code>", "<Error><Code>Unclosed"] {
            assert_eq!(S3Error::parse(body), None, "{body}");
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let body = format!("<Error><Code>X</Code><Message>{}</Message></Error>", "a".repeat(10_000));
        let message = S3Error::parse(&body).unwrap().message.unwrap();
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn double_escapes_survive() {
        assert_eq!(unescape("&amp;lt; &quot;q&apos;"), "&lt; \"q'");
    }
}
