//! Programs that measure, not tests: `drills` (fault drills and bad input,
//! `make drills` -> docs/reliability.md) and `scale-bench` (the operator at
//! 10 to 1,000 Stores, `make bench` -> docs/benchmarks.md), both on
//! testenv's control plane. [`bench`] is what they share.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench;
