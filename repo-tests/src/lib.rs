//! Nothing to link: this crate's tests (`tests/repo/`) check the repository
//! as a whole, the files no one crate owns. `cargo test -p repo-tests`.

#![forbid(unsafe_code)]
