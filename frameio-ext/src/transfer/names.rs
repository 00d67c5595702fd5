//! Remote names as local file names: a name from Frame.io is untrusted input,
//! so one that could step outside the directory it belongs in (`..`, a path
//! separator, an absolute path) or that no file system takes (control
//! characters, NUL, an empty name) is refused, never rewritten into something
//! else.

/// Whether `name` can be used as one local path component as it is (the
/// check downloads make; apps naming a local directory after a remote
/// folder make it too).
///
/// ```
/// use frameio_ext::transfer::is_safe_local_name;
///
/// assert!(is_safe_local_name("Day 01"));
/// assert!(!is_safe_local_name("../etc") && !is_safe_local_name("a/b"));
/// ```
pub fn is_safe(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
        && !(cfg!(windows) && (name.contains([':', '*', '?', '"', '<', '>', '|']) || name.ends_with(['.', ' '])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_or_break_a_path_are_refused() {
        for good in ["A001_C003.mov", "Cut v3.mp4", "..hidden", "é.txt", "a..b"] {
            assert!(is_safe(good), "{good}");
        }
        let long = "x".repeat(256);
        for bad in ["", ".", "..", "../etc", "a/b", "a\\b", "/abs", "tab\there", "nul\0", long.as_str()] {
            assert!(!is_safe(bad), "{bad:?}");
        }
    }
}
