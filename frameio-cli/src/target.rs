//! What a command argument names in Frame.io: an id, or a Frame.io web URL
//! taken apart into ids ([`Target::parse`]).
//!
//! The URL shapes accepted are the two the docs show for `view_url` (the
//! Postman and upload guides, and the fake):
//!
//! * `https://next.frame.io/project/<project-id>` (a trailing `/` too): a project;
//! * `https://next.frame.io/project/<project-id>/view/<asset-id>`: a file,
//!   folder or version stack of that project.
//!
//! Query strings and fragments are ignored. Any other URL (another host, a
//! share or review link, a legacy `app.frame.io` link, `f.io` short links) is
//! refused with one line saying which shapes work: guessing at undocumented
//! shapes would send ids the API does not know, or worse, the wrong ones.

use url::Url;

use crate::error::{Failure, Result};

/// The web app host whose URLs `fio` understands.
pub const WEB_HOST: &str = "next.frame.io";

/// The accepted shapes, for error messages.
pub const SHAPES: &str = "an id, https://next.frame.io/project/<project-id> \
                          or https://next.frame.io/project/<project-id>/view/<asset-id>";

/// Longest id accepted (Frame.io ids are 36-character UUIDs; `adobe:` ids are longer).
const MAX_ID: usize = 128;

/// What an argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A bare id: of a file, folder, version stack or project (which one is
    /// asked of the API).
    Id(String),
    /// A project's web URL.
    Project { project_id: String },
    /// An asset's web URL: the asset and the project it is in.
    Asset { project_id: String, asset_id: String },
}

impl Target {
    /// Reads an argument; an unknown URL shape or a string that is no id is a
    /// usage error.
    pub fn parse(arg: &str) -> Result<Self> {
        let arg = arg.trim();
        if arg.contains("://") || arg.starts_with("next.frame.io/") {
            return Self::parse_url(arg);
        }
        Ok(Target::Id(id(arg, arg)?))
    }

    /// The id the target ends in (the asset's for an asset URL).
    pub fn id(&self) -> &str {
        match self {
            Target::Id(id) => id,
            Target::Project { project_id } => project_id,
            Target::Asset { asset_id, .. } => asset_id,
        }
    }

    fn parse_url(arg: &str) -> Result<Self> {
        let shown = shorten(arg);
        let with_scheme = if arg.contains("://") { arg.to_string() } else { format!("https://{arg}") };
        let url = Url::parse(&with_scheme)
            .map_err(|e| Failure::usage(format!("`{shown}` is not a valid URL ({e}); give {SHAPES}")))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str() != Some(WEB_HOST) {
            return Err(Failure::usage(format!("`{shown}` is not a Frame.io web URL fio understands; give {SHAPES}")));
        }
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        let segments: Vec<&str> = match segments.split_last() {
            Some((&"", rest)) => rest.to_vec(),
            _ => segments,
        };
        match segments.as_slice() {
            ["project", project] => Ok(Target::Project { project_id: id(project, &shown)? }),
            ["project", project, "view", asset] => {
                Ok(Target::Asset { project_id: id(project, &shown)?, asset_id: id(asset, &shown)? })
            }
            _ => Err(Failure::usage(format!("`{shown}` is not a URL shape fio understands; give {SHAPES}"))),
        }
    }
}

/// Checks an id: letters, digits and `-`, `_`, `:`, `.`, at most 128 of them.
fn id(value: &str, arg: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value.len() <= MAX_ID
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(Failure::usage(format!("`{}` is not a Frame.io id or web URL; give {SHAPES}", shorten(arg))))
    }
}

/// An argument as quoted in a message: at most 120 characters.
fn shorten(arg: &str) -> String {
    if arg.chars().count() <= 120 {
        arg.to_string()
    } else {
        format!("{}…", arg.chars().take(120).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "7e46e495-4444-4555-8649-bee4d391a997";
    const A: &str = "93e4079d-0a8a-4bf3-96cd-e6a03c465e5e";

    #[test]
    fn ids_are_taken_as_they_are() {
        assert_eq!(Target::parse(A).unwrap(), Target::Id(A.into()));
        assert_eq!(Target::parse(" adobe:abc.123 ").unwrap(), Target::Id("adobe:abc.123".into()));
    }

    #[test]
    fn the_documented_url_shapes() {
        let view = format!("https://next.frame.io/project/{P}/view/{A}");
        assert_eq!(Target::parse(&view).unwrap(), Target::Asset { project_id: P.into(), asset_id: A.into() });
        let with_query = format!("{view}?c=123#comment");
        assert_eq!(Target::parse(&with_query).unwrap().id(), A);
        for project in [format!("https://next.frame.io/project/{P}"), format!("https://next.frame.io/project/{P}/")] {
            assert_eq!(Target::parse(&project).unwrap(), Target::Project { project_id: P.into() });
        }
        assert_eq!(Target::parse(&format!("next.frame.io/project/{P}")).unwrap().id(), P);
    }

    #[test]
    fn other_shapes_are_refused_in_one_line() {
        for bad in [
            format!("https://app.frame.io/player/{A}"),
            format!("https://next.frame.io/share/{A}"),
            format!("https://next.frame.io/project/{P}/view"),
            format!("https://next.frame.io/project/{P}/{A}"),
            format!("https://evil.example/project/{P}"),
            format!("ftp://next.frame.io/project/{P}"),
            "https://f.io/abc".to_string(),
            "not an id".to_string(),
            "../etc/passwd".to_string(),
            String::new(),
            "a".repeat(129),
        ] {
            let failure = Target::parse(&bad).unwrap_err();
            assert_eq!(failure.exit(), crate::error::Exit::Usage, "{bad}");
            assert!(!failure.to_string().contains('\n'));
            assert!(failure.to_string().contains("next.frame.io/project/<project-id>"), "{failure}");
        }
    }
}
