//! `blueprint observe pcap|sbom`: evidence files into observation JSON.

use anyhow::Context;
use blueprint::observe::{pcap, sbom};
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
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

pub fn run(cmd: Command) -> anyhow::Result<u8> {
    let (obs, output) = match cmd {
        Command::Pcap {
            file,
            device,
            output,
            allow_truncated,
        } => {
            let device: pcap::Device = device.parse()?;
            let f = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let opts = pcap::Options {
                device,
                limits: pcap::Limits::default(),
                allow_truncated,
            };
            let name = file.display().to_string();
            let obs = pcap::observe(std::io::BufReader::with_capacity(1 << 20, f), &name, &opts)
                .with_context(|| name.clone())?;
            if let Some(t) = &obs.traffic {
                for p in &t.coverage.partial {
                    eprintln!("warning: {name}: partial evidence: {p}");
                }
            }
            (obs, output)
        }
        Command::Sbom { file, output } => {
            let bytes = read_limited(&file, sbom::MAX_SBOM_BYTES)?;
            let name = file.display().to_string();
            (
                sbom::observe(&bytes, &name).with_context(|| name.clone())?,
                output,
            )
        }
    };
    let mut text = serde_json::to_string_pretty(&obs)?;
    text.push('\n');
    super::emit(output.as_deref(), &text)?;
    Ok(0)
}

/// Reads a whole file, refusing it if it is larger than `max`.
pub(crate) fn read_limited(path: &std::path::Path, max: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = Vec::new();
    f.take(max as u64 + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() > max {
        anyhow::bail!("{} is larger than the {max}-byte limit", path.display());
    }
    Ok(buf)
}
