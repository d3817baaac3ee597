//! The tools' integration tests, one binary: the command lines of `drills`
//! and `scale-bench`.

mod command_lines;
