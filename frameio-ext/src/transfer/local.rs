//! A local directory tree as an upload sees it: its directories (parents
//! first) and regular files, by path relative to the root, in name order.
//!
//! Symbolic links to files are followed; links to directories are not (a
//! link can point back up the tree), nor is anything that is neither a file
//! nor a directory. A subdirectory that cannot be read is reported and the
//! rest of the tree still walked.

use std::io;
use std::path::{Path, PathBuf};

/// What [`walk`] found.
#[derive(Debug, Default)]
pub(crate) struct LocalTree {
    /// Directories below the root, each after its parent.
    pub(crate) dirs: Vec<PathBuf>,
    /// Regular files and their lengths.
    pub(crate) files: Vec<(PathBuf, u64)>,
    /// Entries that are not followed.
    pub(crate) not_files: Vec<PathBuf>,
    /// Directories that could not be read.
    pub(crate) unreadable: Vec<(PathBuf, io::Error)>,
}

/// Walks `root` (blocking: run it on the blocking pool).
///
/// # Errors
/// `root` itself cannot be read.
pub(crate) fn walk(root: &Path) -> io::Result<LocalTree> {
    let mut tree = LocalTree::default();
    let mut queue = std::collections::VecDeque::from([PathBuf::new()]);
    let mut first = true;
    while let Some(dir) = queue.pop_front() {
        let entries = match read_sorted(&root.join(&dir)) {
            Ok(entries) => entries,
            Err(e) if first => return Err(e),
            Err(e) => {
                tree.unreadable.push((dir, e));
                continue;
            }
        };
        first = false;
        for (name, kind) in entries {
            let rel = dir.join(&name);
            match kind {
                Kind::Dir => {
                    tree.dirs.push(rel.clone());
                    queue.push_back(rel);
                }
                Kind::File(len) => tree.files.push((rel, len)),
                Kind::Other => tree.not_files.push(rel),
            }
        }
    }
    Ok(tree)
}

enum Kind {
    Dir,
    File(u64),
    Other,
}

fn read_sorted(dir: &Path) -> io::Result<Vec<(std::ffi::OsString, Kind)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = match entry.file_type()? {
            t if t.is_dir() => Kind::Dir,
            t if t.is_file() => Kind::File(entry.metadata()?.len()),
            // A link: followed to a file, not to a directory.
            t if t.is_symlink() => match std::fs::metadata(entry.path()) {
                Ok(meta) if meta.is_file() => Kind::File(meta.len()),
                _ => Kind::Other,
            },
            _ => Kind::Other,
        };
        entries.push((entry.file_name(), kind));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_walked_parents_first_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/inner")).unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("top.txt"), b"12345").unwrap();
        std::fs::write(root.join("b/inner/deep.bin"), b"1").unwrap();
        std::fs::write(root.join("a/x"), b"").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("b"), root.join("loop")).unwrap();
            std::os::unix::fs::symlink(root.join("top.txt"), root.join("link.txt")).unwrap();
        }

        let tree = walk(root).unwrap();

        assert_eq!(tree.dirs, [PathBuf::from("a"), "b".into(), "b/inner".into()]);
        let mut files = vec![(PathBuf::from("top.txt"), 5), ("a/x".into(), 0), ("b/inner/deep.bin".into(), 1)];
        if cfg!(unix) {
            files.insert(0, ("link.txt".into(), 5));
            assert_eq!(tree.not_files, [PathBuf::from("loop")], "a link to a directory is not followed");
        }
        let mut found = tree.files.clone();
        found.sort();
        files.sort();
        assert_eq!(found, files);
        assert!(walk(&root.join("missing")).is_err());
    }
}
