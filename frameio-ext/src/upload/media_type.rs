//! Guessing a file's media type from its name, for the `Content-Type` of its
//! parts when Frame.io's `media_type` is not at hand.

use std::path::Path;

/// The media type sent when the extension says nothing useful.
pub const DEFAULT_MEDIA_TYPE: &str = "application/octet-stream";

/// The media type for a file name, from its extension
/// ([`mime_guess`]'s table), or [`DEFAULT_MEDIA_TYPE`].
///
/// Storage checks `Content-Type` against the `media_type` of the File that
/// Frame.io created, so when a File response is at hand, send its
/// `media_type` and use this only as a fallback.
///
/// ```
/// use frameio_ext::upload::guess_media_type;
///
/// assert_eq!(guess_media_type("A001_C002.MOV"), "video/quicktime");
/// assert_eq!(guess_media_type("take.mp4"), "video/mp4");
/// assert_eq!(guess_media_type("frame.braw"), "application/octet-stream");
/// ```
pub fn guess_media_type(path: impl AsRef<Path>) -> &'static str {
    mime_guess::from_path(path).first_raw().unwrap_or(DEFAULT_MEDIA_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_media_and_fallbacks() {
        for (name, expected) in [
            ("clip.mov", "video/quicktime"),
            ("dir.with.dots/still.JPG", "image/jpeg"),
            ("mix.wav", "audio/wav"),
            ("script.pdf", "application/pdf"),
            ("no_extension", DEFAULT_MEDIA_TYPE),
            ("weird.zzzunknown", DEFAULT_MEDIA_TYPE),
        ] {
            assert_eq!(guess_media_type(name), expected, "{name}");
        }
    }
}
