//! Scripted faults: a test queues what the next requests to an operation (or a
//! path) suffer, and each matching request takes the oldest fault left, so a
//! script like "two 503s, then a reset" plays out in order.
//!
//! Operations are named as in `frameio_gen`'s operation tables (`files_show`);
//! the storage endpoints are [`crate::STORAGE_UPLOAD`] and [`crate::STORAGE_DOWNLOAD`].

use std::collections::VecDeque;
use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// Requests to this operation (e.g. `files_show`, or [`crate::STORAGE_UPLOAD`]).
    Operation(String),
    /// Requests to exactly this path (no query).
    Path(String),
    /// Every request.
    Any,
}

impl Target {
    /// Requests to this operation.
    pub fn operation(name: &str) -> Self {
        Self::Operation(name.to_string())
    }

    /// Requests to exactly this path.
    pub fn path(path: &str) -> Self {
        Self::Path(path.to_string())
    }

    /// Part `number` (from 1) of a file's upload to the fake's storage: the path of the
    /// part's pre-signed URL, so one part can fail while the others go through.
    ///
    /// ```
    /// use frameio_fake::Target;
    ///
    /// // `fake.fault(Target::upload_part(&upload.id, 2), Fault::status(403))` refuses part 2 once.
    /// assert_eq!(Target::upload_part("f1", 2), Target::path("/_fake/storage/f1/part_2"));
    /// ```
    pub fn upload_part(file_id: &str, number: usize) -> Self {
        Self::Path(crate::paths::upload_part_path(file_id, number))
    }

    fn matches(&self, operation: Option<&str>, path: &str) -> bool {
        match self {
            Self::Operation(name) => operation == Some(name.as_str()),
            Self::Path(p) => p == path,
            Self::Any => true,
        }
    }
}

/// What happens to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer this status (with the error envelope unless a body is given: its content type,
    /// none if empty, and bytes), without touching state.
    Status { status: u16, headers: Vec<(String, String)>, body: Option<(String, Vec<u8>)> },
    /// Answer normally, after this delay (on tokio's clock).
    Delay(Duration),
    /// Read the request, then close the connection without answering.
    HangUp,
    /// Read this many bytes of the request body, then reset the connection (RST).
    ResetAfter(usize),
    /// Read this many bytes of the request body, then neither read nor answer again.
    StallAfter(usize),
    /// Answer normally with the full `Content-Length`, but send only this many body bytes, then close.
    Truncate(usize),
    /// Like [`Self::Truncate`], then reset the connection (RST) instead of closing it.
    ResetResponseAfter(usize),
    /// For a list: an empty page whose `links.next` repeats the request's cursor.
    RepeatCursor,
}

/// A fault and how many requests it applies to.
///
/// ```
/// use std::time::Duration;
/// use frameio_fake::Fault;
///
/// let storm = Fault::status(503).times(3);
/// let throttled = Fault::status(429).header("retry-after", "1");
/// let slow = Fault::delay(Duration::from_secs(2));
/// # let _ = (storm, throttled, slow);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) times: usize,
}

impl Fault {
    fn of(kind: FaultKind) -> Self {
        Self { kind, times: 1 }
    }

    /// Answer `status` with the documented error envelope.
    pub fn status(status: u16) -> Self {
        Self::of(FaultKind::Status { status, headers: Vec::new(), body: None })
    }

    /// Answer normally after `delay`.
    pub fn delay(delay: Duration) -> Self {
        Self::of(FaultKind::Delay(delay))
    }

    /// Close the connection without answering.
    pub fn hang_up() -> Self {
        Self::of(FaultKind::HangUp)
    }

    /// Reset the connection after reading `bytes` of the request body.
    pub fn reset_after(bytes: usize) -> Self {
        Self::of(FaultKind::ResetAfter(bytes))
    }

    /// Stop reading after `bytes` of the request body, and never answer.
    pub fn stall_after(bytes: usize) -> Self {
        Self::of(FaultKind::StallAfter(bytes))
    }

    /// Send only the first `bytes` of the body (its full length declared), then close.
    pub fn truncate(bytes: usize) -> Self {
        Self::of(FaultKind::Truncate(bytes))
    }

    /// Send only the first `bytes` of the body, then reset the connection.
    pub fn reset_response_after(bytes: usize) -> Self {
        Self::of(FaultKind::ResetResponseAfter(bytes))
    }

    /// An empty page whose `links.next` repeats the cursor (list operations only).
    pub fn repeat_cursor() -> Self {
        Self::of(FaultKind::RepeatCursor)
    }

    /// Applies to the next `n` matching requests instead of one.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Adds a header to a [`Fault::status`] answer.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let FaultKind::Status { headers, .. } = &mut self.kind {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// Replaces a [`Fault::status`] answer's body.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        if let FaultKind::Status { body: slot, .. } = &mut self.kind {
            *slot = Some((content_type.to_string(), body.into()));
        }
        self
    }

    /// What this fault does.
    pub fn kind(&self) -> &FaultKind {
        &self.kind
    }
}

/// Scripted answers beyond the error envelope.
impl Fault {
    /// Answer normally: a placeholder that lets a script start later ("two normal answers,
    /// then a hang-up"). It is a zero [`Fault::delay`].
    ///
    /// ```
    /// use frameio_fake::{Fault, FaultKind};
    ///
    /// let script = [Fault::pass().times(2), Fault::hang_up()];
    /// assert_eq!(script[0].kind(), &FaultKind::Delay(std::time::Duration::ZERO));
    /// ```
    pub fn pass() -> Self {
        Self::delay(Duration::ZERO)
    }

    /// Answer `status` with no body and no `Content-Type` (a bare `204`, or an error a proxy
    /// sent without a body).
    ///
    /// ```
    /// use frameio_fake::{Fault, FaultKind};
    ///
    /// let bare = Fault::empty(404);
    /// assert!(matches!(bare.kind(), FaultKind::Status { status: 404, body: Some((kind, bytes)), .. }
    ///     if kind.is_empty() && bytes.is_empty()));
    /// ```
    pub fn empty(status: u16) -> Self {
        Self::status(status).body("", Vec::new())
    }

    /// Answer `status` with this JSON body (`Content-Type: application/json`), e.g. a
    /// documented example, or a shape the fake would not produce by itself.
    ///
    /// ```
    /// use frameio_fake::Fault;
    ///
    /// let paused = Fault::json(409, r#"{"error": "Channel Paused"}"#);
    /// # let _ = paused;
    /// ```
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::status(status).body("application/json", body)
    }
}

/// The queue of a running fake.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: VecDeque<(Target, Fault)>,
}

impl Faults {
    pub fn push(&mut self, target: Target, fault: Fault) {
        if fault.times > 0 {
            self.queue.push_back((target, fault));
        }
    }

    /// Takes the oldest fault for this request, if any.
    pub fn take(&mut self, operation: Option<&str>, path: &str) -> Option<FaultKind> {
        let index = self.queue.iter().position(|(target, _)| target.matches(operation, path))?;
        let (_, fault) = &mut self.queue[index];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.queue.remove(index);
        }
        Some(kind)
    }

    /// How many requests are still scripted.
    pub fn pending(&self) -> usize {
        self.queue.iter().map(|(_, f)| f.times).sum()
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_per_target() {
        let mut faults = Faults::default();
        faults.push(Target::operation("files_show"), Fault::status(503).times(2));
        faults.push(Target::path("/v4/me"), Fault::hang_up());
        faults.push(Target::operation("files_show"), Fault::hang_up());
        assert_eq!(faults.pending(), 4);
        assert_eq!(faults.take(Some("users_show"), "/v4/me"), Some(FaultKind::HangUp));
        assert!(matches!(faults.take(Some("files_show"), "/x"), Some(FaultKind::Status { status: 503, .. })));
        assert!(matches!(faults.take(Some("files_show"), "/x"), Some(FaultKind::Status { status: 503, .. })));
        assert_eq!(faults.take(Some("files_show"), "/x"), Some(FaultKind::HangUp));
        assert_eq!(faults.take(Some("files_show"), "/x"), None);
    }
}
