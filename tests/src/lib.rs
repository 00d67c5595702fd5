//! Workspace-level tests that cross crates live in `tests/tests/`; this library is
//! empty and exists so that Cargo has a package to hang them on.
