//! Where the fake's storage lives on its own server: the paths of upload parts
//! and of media renditions, built and parsed only here, so the URLs storage
//! signs, the routes that serve them and [`crate::Target::upload_part`] cannot
//! disagree.

/// The path prefix of upload URLs.
const UPLOAD_PREFIX: &str = "/_fake/storage/";
/// The path prefix of download URLs.
const MEDIA_PREFIX: &str = "/_fake/media/";

/// The path of part `number` (from 1) of `file_id`'s upload.
pub(crate) fn upload_part_path(file_id: &str, number: usize) -> String {
    format!("{UPLOAD_PREFIX}{file_id}/part_{number}")
}

/// The part a storage path names: (`file_id`, part number from 1).
pub(crate) fn parse_upload_path(path: &str) -> Option<(&str, usize)> {
    let rest = path.strip_prefix(UPLOAD_PREFIX)?;
    let (file_id, part) = rest.split_once('/')?;
    let number = part.strip_prefix("part_")?.parse().ok()?;
    Some((file_id, number))
}

/// The path of `file_id`'s `rendition`.
pub(crate) fn media_path(file_id: &str, rendition: &str) -> String {
    format!("{MEDIA_PREFIX}{file_id}/{rendition}")
}

/// The file a media path names: (`file_id`, rendition).
pub(crate) fn parse_media_path(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix(MEDIA_PREFIX)?.split_once('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_back_to_what_built_them() {
        assert_eq!(parse_upload_path(&upload_part_path("f1", 2)), Some(("f1", 2)));
        assert_eq!(parse_media_path(&media_path("f1", "original")), Some(("f1", "original")));
        assert_eq!(parse_upload_path(&media_path("f1", "original")), None);
    }
}
