//! testenv's integration tests, one binary: the command line of
//! `cluster-local`, and no program outliving its control plane.

mod command_lines;
mod teardown;
