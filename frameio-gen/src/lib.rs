//! placeholder until regen
