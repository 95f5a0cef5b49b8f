//! `blueprint observe pcap|sbom`: evidence files into observation JSON.

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use anyhow::Context;
use blueprint::device::observe::{pcap, sbom};
use std::path::PathBuf;

/// Subcommands of `observe`.
#[derive(Debug, clap::Subcommand)]
pub enum ObserveCommand {
    /// Read a pcap or pcapng capture (streaming) and write the device's flows, names and DNS.
    Pcap {
        /// The capture file.
        file: PathBuf,
        /// The device: its IP address or MAC address (aa:bb:cc:dd:ee:ff).
        #[arg(long)]
        device: String,
        /// Write the observation here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Keep the evidence read before a truncated final record (marked truncated).
        #[arg(long)]
        allow_truncated: bool,
    },
    /// Read a CycloneDX 1.4–1.6 JSON SBOM of the firmware.
    Sbom {
        /// The SBOM file.
        file: PathBuf,
        /// Write the observation here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Runs `observe`; exit 0, or 2 when the evidence cannot be read.
pub fn run(cmd: &ObserveCommand) -> u8 {
    match observe(cmd) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&format!("{e:#}"));
            EXIT_OPERATIONAL
        }
    }
}

fn observe(cmd: &ObserveCommand) -> anyhow::Result<()> {
    let (obs, output) = match cmd {
        ObserveCommand::Pcap {
            file,
            device,
            output,
            allow_truncated,
        } => {
            let device: pcap::Device = device.parse()?;
            let f = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let opts = pcap::Options {
                device,
                limits: pcap::Limits::default(),
                allow_truncated: *allow_truncated,
            };
            let name = file.display().to_string();
            let obs = pcap::observe(std::io::BufReader::with_capacity(1 << 20, f), &name, &opts)
                .with_context(|| name.clone())?;
            if let Some(t) = &obs.traffic {
                for p in &t.coverage.partial {
                    output::stderr_line(&format!("warning: {name}: partial evidence: {p}"));
                }
            }
            (obs, output)
        }
        ObserveCommand::Sbom { file, output } => {
            let bytes =
                output::read_limited(file, sbom::MAX_SBOM_BYTES).map_err(anyhow::Error::msg)?;
            let name = file.display().to_string();
            (
                sbom::observe(&bytes, &name).with_context(|| name.clone())?,
                output,
            )
        }
    };
    let mut text = serde_json::to_string_pretty(&obs)?;
    text.push('\n');
    super::diff::emit(output.as_deref(), &text)
}
