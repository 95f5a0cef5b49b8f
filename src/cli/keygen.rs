//! `blueprint keygen -o PREFIX`: a new Ed25519 key pair as
//! `PREFIX.key` (PKCS#8 PEM, mode 0600) and `PREFIX.pub` (SPKI PEM).

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::keys::SigningKeyFile;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Path prefix: writes PREFIX.key and PREFIX.pub; existing files are never overwritten.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "PREFIX")]
    pub output: PathBuf,
}

pub fn run(args: &KeygenArgs) -> u8 {
    let key = match SigningKeyFile::generate() {
        Ok(k) => k,
        Err(e) => {
            output::error(&e.to_string());
            return EXIT_OPERATIONAL;
        }
    };
    match key.write_pair(&args.output) {
        Ok((private, public)) => {
            let _ = output::stdout(
                format!(
                    "wrote {} (private, mode 0600) and {}\nkeyid {}\n",
                    private.display(),
                    public.display(),
                    key.id()
                )
                .as_bytes(),
            );
            EXIT_OK
        }
        Err(e) => {
            output::error(&e.to_string());
            EXIT_OPERATIONAL
        }
    }
}
