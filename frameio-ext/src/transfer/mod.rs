//! Transfers: the jobs that move media between disk and Frame.io, built on the
//! client and on the storage engines ([`upload`](crate::upload)): a file
//! into a folder, a new version of a file or stack, a comment attachment, a
//! remote upload, and waiting until Frame.io has the file.
//!
//! The engines send bytes to pre-signed URLs and know nothing of the API; this
//! module asks the API for those URLs and tells it what happened.

mod upload;

pub use upload::{FileUploadError, NewFile, Uploads, VersionOf, WaitOptions};
