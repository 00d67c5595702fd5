//! `SpecError`: a problem in the input documents, located by file and JSON pointer.

use std::fmt;

/// A defect in a spec document that stops the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The document, relative to the workspace (or the merged document's origin).
    pub file: String,
    /// JSON pointer into that document, `""` for the whole document.
    pub pointer: String,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl SpecError {
    pub fn new(file: impl Into<String>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), pointer: pointer.into(), message: message.into() }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
    }
}

impl std::error::Error for SpecError {}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from raw segments.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    segments.into_iter().map(|s| format!("/{}", escape(s.as_ref()))).collect()
}
