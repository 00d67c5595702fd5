//! The part plan: which byte range of the source goes to which pre-signed
//! URL, checked before a single byte is sent.
//!
//! Pre-signed URLs carry their credential in the query string, so nothing in
//! this module prints more of a URL than its scheme, host and path.

use std::fmt;
use std::ops::Range;

use reqwest::Url;

/// One entry of a File's `upload_urls`: a pre-signed storage URL and the
/// number of bytes it takes.
///
/// Build it from Frame.io's `upload_urls[i]` (`{size, url}`), or with
/// [`UploadUrl::without_size`] when the API returned bare URLs (C2C), in which
/// case the file is split evenly. `Debug` shows the URL without its query
/// string, which is a credential.
///
/// ```
/// use frameio_ext::upload::UploadUrl;
///
/// let part = UploadUrl::new(16_881_997, "https://bucket.s3.example/parts/1?X-Amz-Signature=secret");
/// assert_eq!(part.size, Some(16_881_997));
/// assert!(!format!("{part:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UploadUrl {
    /// How many bytes this URL takes (`upload_urls[i].size`); `None` when the
    /// API gave only URLs.
    pub size: Option<u64>,
    /// The pre-signed URL; its query string is a credential: never log it.
    pub url: String,
}

impl UploadUrl {
    /// A URL that takes exactly `size` bytes.
    pub fn new(size: u64, url: impl Into<String>) -> Self {
        Self { size: Some(size), url: url.into() }
    }

    /// A URL whose share is computed by splitting the file evenly
    /// (`ceil(file_size / url_count)` bytes, the last part taking the rest).
    pub fn without_size(url: impl Into<String>) -> Self {
        Self { size: None, url: url.into() }
    }
}

impl fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadUrl").field("size", &self.size).field("url", &redact_str(&self.url)).finish()
    }
}

/// Why a list of upload URLs cannot be used for a source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The list of upload URLs was empty.
    #[error("no upload URLs were given")]
    NoUrls,
    /// Some URLs had a size and others did not.
    #[error("{sized} of {count} upload URLs have a size: give all sizes or none")]
    MixedSizes {
        /// How many URLs had a size.
        sized: usize,
        /// How many URLs there were.
        count: usize,
    },
    /// The URLs' sizes do not add up to the source's length.
    #[error("the upload URLs' sizes add up to {sizes_total} bytes but the source has {source_len}")]
    SizeMismatch {
        /// The sum of the URLs' sizes.
        sizes_total: u128,
        /// The source's length in bytes.
        source_len: u64,
    },
    /// A URL could not be parsed as an absolute `http(s)` URL.
    #[error("upload URL {number} of {count} is not an absolute http(s) URL: {reason}")]
    InvalidUrl {
        /// The URL's 1-based position in the list.
        number: usize,
        /// How many URLs there were.
        count: usize,
        /// What is wrong with it (never the URL itself).
        reason: String,
    },
}

/// One part of an upload: its position, its byte range in the source and
/// where it goes.
///
/// `Debug` and `Display` show the URL's scheme, host and path only.
#[derive(Clone, PartialEq, Eq)]
pub struct Part {
    index: usize,
    count: usize,
    range: Range<u64>,
    url: Url,
    redacted: String,
}

impl Part {
    /// The 0-based position of this part in the plan.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The 1-based position of this part, as people count (`part 2 of 3`).
    pub fn number(&self) -> usize {
        self.index + 1
    }

    /// How many parts the plan has.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The source bytes this part carries (start inclusive, end exclusive).
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// How many bytes this part carries.
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// Whether this part carries no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The URL's scheme, host and path, without the credential in its query.
    pub fn redacted_url(&self) -> &str {
        &self.redacted
    }

    /// The full pre-signed URL, for sending the request only.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "part {} of {} (bytes {}..{} to {})",
            self.number(),
            self.count,
            self.range.start,
            self.range.end,
            self.redacted
        )
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("number", &self.number())
            .field("count", &self.count)
            .field("range", &self.range)
            .field("url", &self.redacted)
            .finish()
    }
}

/// The parts of one upload, in order, covering the source exactly once.
///
/// Sizes come from the URLs when they have them (their sum must equal the
/// source's length); otherwise the source is split evenly the way Frame.io's
/// guides do it: every part takes `ceil(len / count)` bytes and the last one
/// takes what is left.
///
/// ```
/// use frameio_ext::upload::{PartPlan, UploadUrl};
///
/// let urls: Vec<_> = (1..=3)
///     .map(|n| UploadUrl::without_size(format!("https://s3.example/parts/part_{n}?sig=x")))
///     .collect();
/// let plan = PartPlan::new(50_645_990, &urls)?;
/// let sizes: Vec<u64> = plan.parts().iter().map(|p| p.len()).collect();
/// assert_eq!(sizes, [16_881_997, 16_881_997, 16_881_996]);
/// # Ok::<(), frameio_ext::upload::PlanError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartPlan {
    parts: Vec<Part>,
    total_bytes: u64,
}

impl PartPlan {
    /// Plans the upload of `source_len` bytes to `urls`.
    ///
    /// # Errors
    /// [`PlanError`] when the list is empty, mixes sized and unsized URLs,
    /// has sizes that do not add up to `source_len`, or holds a URL that is
    /// not absolute `http(s)`.
    pub fn new(source_len: u64, urls: &[UploadUrl]) -> Result<Self, PlanError> {
        let count = urls.len();
        if count == 0 {
            return Err(PlanError::NoUrls);
        }
        let sized = urls.iter().filter(|u| u.size.is_some()).count();
        let lengths: Vec<u64> = if sized == count {
            let sizes_total: u128 = urls.iter().filter_map(|u| u.size).map(u128::from).sum();
            if sizes_total != u128::from(source_len) {
                return Err(PlanError::SizeMismatch { sizes_total, source_len });
            }
            urls.iter().filter_map(|u| u.size).collect()
        } else if sized == 0 {
            even_split(source_len, count)
        } else {
            return Err(PlanError::MixedSizes { sized, count });
        };

        let mut parts = Vec::with_capacity(count);
        let mut start = 0;
        for (index, (upload_url, len)) in urls.iter().zip(lengths).enumerate() {
            let url = parse_url(&upload_url.url).map_err(|reason| PlanError::InvalidUrl {
                number: index + 1,
                count,
                reason,
            })?;
            parts.push(Part { index, count, range: start..start + len, redacted: redact(&url), url });
            start += len;
        }
        Ok(Self { parts, total_bytes: source_len })
    }

    /// The parts, in source order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// How many bytes the plan covers (the source's length).
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }
}

/// `count` lengths of `ceil(len / count)` bytes, the tail taking what is left
/// (possibly zero when there are more URLs than the split needs).
fn even_split(len: u64, count: usize) -> Vec<u64> {
    let chunk = len.div_ceil(count as u64);
    (0..count as u64)
        .map(|i| {
            let start = (i * chunk).min(len);
            (start + chunk).min(len) - start
        })
        .collect()
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        "http" | "https" => Err("it has no host".to_owned()),
        other => Err(format!("unsupported scheme {other:?}")),
    }
}

/// Scheme, host, port and path: everything but the credentials in the
/// userinfo and the query string.
pub(crate) fn redact(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// [`redact`] for a string that may not even parse.
fn redact_str(raw: &str) -> String {
    Url::parse(raw).map_or_else(|_| "<invalid URL>".to_owned(), |url| redact(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn without_sizes(n: usize) -> Vec<UploadUrl> {
        (1..=n).map(|i| UploadUrl::without_size(format!("https://s3.example/p/{i}?X-Amz-Signature=sig"))).collect()
    }

    fn lens(plan: &PartPlan) -> Vec<u64> {
        plan.parts().iter().map(Part::len).collect()
    }

    #[test]
    fn even_split_matches_the_published_example() {
        let plan = PartPlan::new(50_645_990, &without_sizes(3)).unwrap();
        assert_eq!(lens(&plan), [16_881_997, 16_881_997, 16_881_996]);
        let ranges: Vec<_> = plan.parts().iter().map(Part::range).collect();
        assert_eq!(ranges, [0..16_881_997, 16_881_997..33_763_994, 33_763_994..50_645_990]);
        // The C2C guide's example: 21,136,250 bytes in 4 parts.
        let plan = PartPlan::new(21_136_250, &without_sizes(4)).unwrap();
        assert_eq!(lens(&plan), [5_284_063, 5_284_063, 5_284_063, 5_284_061]);
    }

    #[test]
    fn even_split_covers_the_source_when_urls_outnumber_bytes() {
        assert_eq!(even_split(9, 4), [3, 3, 3, 0]);
        assert_eq!(even_split(2, 4), [1, 1, 0, 0]);
        assert_eq!(even_split(0, 1), [0]);
        assert_eq!(even_split(10, 1), [10]);
    }

    #[test]
    fn sizes_from_the_urls_win() {
        let urls = [
            UploadUrl::new(10, "https://s3.example/1"),
            UploadUrl::new(30, "https://s3.example/2"),
            UploadUrl::new(5, "https://s3.example/3"),
        ];
        let plan = PartPlan::new(45, &urls).unwrap();
        assert_eq!(lens(&plan), [10, 30, 5]);
        assert_eq!(plan.parts()[2].range(), 40..45);
        assert_eq!(plan.total_bytes(), 45);
        assert_eq!(plan.parts()[1].number(), 2);
        assert_eq!(plan.parts()[1].count(), 3);
    }

    #[test]
    fn bad_lists_are_rejected() {
        let sized = [UploadUrl::new(10, "https://s3.example/1"), UploadUrl::new(10, "https://s3.example/2")];
        assert_eq!(PartPlan::new(21, &sized), Err(PlanError::SizeMismatch { sizes_total: 20, source_len: 21 }));
        let huge = [UploadUrl::new(u64::MAX, "https://s3.example/1"), UploadUrl::new(2, "https://s3.example/2")];
        assert!(matches!(PartPlan::new(1, &huge), Err(PlanError::SizeMismatch { .. })));
        let mixed = [UploadUrl::new(10, "https://s3.example/1"), UploadUrl::without_size("https://s3.example/2")];
        assert_eq!(PartPlan::new(20, &mixed), Err(PlanError::MixedSizes { sized: 1, count: 2 }));
        assert_eq!(PartPlan::new(20, &[]), Err(PlanError::NoUrls));
        for bad in ["/relative/path", "ftp://s3.example/1", "http://"] {
            let err = PartPlan::new(1, &[UploadUrl::without_size(bad)]).unwrap_err();
            assert!(matches!(err, PlanError::InvalidUrl { number: 1, count: 1, .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn urls_are_redacted_everywhere_but_the_request() {
        let raw = "https://user:pw@s3.example:8443/parts/1?X-Amz-Signature=topsecret&X-Amz-Credential=AKIA";
        let plan = PartPlan::new(4, &[UploadUrl::new(4, raw)]).unwrap();
        let part = &plan.parts()[0];
        assert_eq!(part.redacted_url(), "https://s3.example:8443/parts/1");
        assert_eq!(part.url().as_str(), raw);
        for shown in
            [format!("{part}"), format!("{part:?}"), format!("{plan:?}"), format!("{:?}", UploadUrl::new(4, raw))]
        {
            assert!(!shown.contains("topsecret"), "{shown}");
            assert!(!shown.contains("AKIA"), "{shown}");
            assert!(!shown.contains("pw@"), "{shown}");
        }
        assert_eq!(part.to_string(), "part 1 of 1 (bytes 0..4 to https://s3.example:8443/parts/1)");
        assert_eq!(redact_str("not a url?sig=1"), "<invalid URL>");
    }
}
