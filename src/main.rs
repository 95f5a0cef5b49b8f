//! The `blueprint` command: argument parsing, rendering, exit codes.
//! All the work is done by the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
