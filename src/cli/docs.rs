//! `blueprint completions SHELL` and `blueprint man`: shell completions and
//! a roff man page, both generated from the command-line definition itself
//! so they never drift from it.

use super::{Cli, EXIT_OK, EXIT_OPERATIONAL, output};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::path::PathBuf;

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Arguments of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write the page here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file (a private key file is never replaced).
    #[arg(long)]
    pub force: bool,
}

/// Prints the completion script for `args.shell`.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "blueprint", &mut script);
    write(None, &script, false)
}

/// Writes blueprint(1): the top-level page with a section per subcommand.
pub fn man(args: &ManArgs) -> u8 {
    match render_man() {
        Ok(page) => write(args.output.as_deref(), &page, args.force),
        Err(e) => {
            output::error(&format!("cannot render the man page: {e}"));
            EXIT_OPERATIONAL
        }
    }
}

/// The man page: clap_mangen's page of the whole command, then one
/// SUBCOMMAND section per subcommand (its about, usage and options), so a
/// single page documents everything.
fn render_man() -> std::io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render_sub(&mut page, &[cmd.get_name()], sub)?;
    }
    render_exit_status(&mut page);
    Ok(page)
}

fn render_sub(page: &mut Vec<u8>, parents: &[&str], sub: &clap::Command) -> std::io::Result<()> {
    let mut path = parents.to_vec();
    path.push(sub.get_name());
    let full = path.join(" ");
    let man = clap_mangen::Man::new(sub.clone().bin_name(full.clone()));
    let mut section = Vec::new();
    // The subcommand's synopsis, description, options and notes (its exit
    // status) as a section of
    // the main page (roff `.SH` headers of its own page become `.SS`).
    man.render_synopsis_section(&mut section)?;
    man.render_description_section(&mut section)?;
    if sub.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut section)?;
    }
    if sub.get_after_long_help().is_some() || sub.get_after_help().is_some() {
        let mut extra = Vec::new();
        man.render_extra_section(&mut extra)?;
        let extra = String::from_utf8_lossy(&extra).replacen(".SH EXTRA", ".SH NOTES", 1);
        section.extend_from_slice(extra.as_bytes());
    }
    page.extend_from_slice(format!(".SH \"{}\"\n", full.to_uppercase()).as_bytes());
    let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
    page.extend_from_slice(text.as_bytes());
    for child in sub.get_subcommands().filter(|s| s.get_name() != "help") {
        render_sub(page, &path, child)?;
    }
    Ok(())
}

fn render_exit_status(page: &mut Vec<u8>) {
    page.extend_from_slice(
        b".SH \"EXIT STATUS\"\n\
.TP\n0\nNothing to report: valid, verified, written, or no deviation beyond minor ones.\n\
.TP\n1\nError-level findings, forfeit-worthy deviations, a failed verification, or a refusal (signing or exporting a manifest with error-level findings).\n\
.TP\n2\nUsage or operational error: bad arguments, unreadable input, an existing output file without \\-\\-force; and insufficient evidence (a capture without packets of the device, evidence too incomplete to conclude).\n",
    );
}

fn write(path: Option<&std::path::Path>, bytes: &[u8], force: bool) -> u8 {
    let replace = output::Replace { force, key: None };
    match output::write_output(path, bytes, replace) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&e);
            EXIT_OPERATIONAL
        }
    }
}
