//! `blueprint observe pcap|sbom`: evidence files into observation JSON.
//!
//! Exit 0: observation written. Exit 2: the evidence cannot be read, or it
//! is insufficient — a capture with no packet of the chosen `--device` says
//! nothing about that device, so no observation is written (the same rule
//! by which `diff` never concludes on missing evidence).

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use anyhow::Context;
use blueprint::device::observe::{Observation, pcap, sbom};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Subcommands of `observe`.
#[derive(Debug, clap::Subcommand)]
pub enum ObserveCommand {
    /// Read a pcap or pcapng capture (streaming) and write the device's flows, names and DNS.
    #[command(
        after_long_help = "Exit status: 0 written (or listed); 2 insufficient evidence (no packet of --device in the capture: see --list-hosts), unreadable or hostile capture, bad arguments, existing output without --force."
    )]
    Pcap {
        /// The capture file.
        file: PathBuf,
        /// The device: its IP address or MAC address (aa:bb:cc:dd:ee:ff); see --list-hosts.
        #[arg(long, required_unless_present = "list_hosts")]
        device: Option<String>,
        /// List the capture's devices (MAC/IP) with packet and flow counts, and write nothing.
        #[arg(long, conflicts_with_all = ["device", "output", "force"])]
        list_hosts: bool,
        /// Write the observation here (atomically) instead of to standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing output file (a private key file is never replaced).
        #[arg(long)]
        force: bool,
        /// Keep the evidence read before a truncated final record (marked truncated).
        #[arg(long)]
        allow_truncated: bool,
    },
    /// Read a CycloneDX 1.4–1.6 JSON SBOM of the firmware.
    Sbom {
        /// The SBOM file.
        file: PathBuf,
        /// Write the observation here (atomically) instead of to standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing output file (a private key file is never replaced).
        #[arg(long)]
        force: bool,
    },
}

/// Runs `observe`; exit 0, or 2 when the evidence cannot be read or is
/// insufficient.
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
    let (obs, output, force) = match cmd {
        ObserveCommand::Pcap {
            file,
            list_hosts: true,
            allow_truncated,
            ..
        } => return hosts(file, *allow_truncated),
        ObserveCommand::Pcap {
            file,
            device,
            output,
            force,
            allow_truncated,
            ..
        } => {
            let Some(device) = device else {
                anyhow::bail!("give --device IP|MAC, or --list-hosts to see the capture's devices");
            };
            let selector: pcap::Device = device.parse()?;
            blueprint::input::regular_file(file)?;
            let f = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let opts = pcap::Options {
                device: selector,
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
                if t.coverage.packets_device == 0 {
                    anyhow::bail!(
                        "{name}: insufficient evidence: none of its {} is from or to device {device}, so no observation was written; run `blueprint observe pcap {name} --list-hosts` to see the capture's devices",
                        output::plural(t.coverage.packets_total, "packet", "packets")
                    );
                }
            }
            (obs, output, *force)
        }
        ObserveCommand::Sbom {
            file,
            output,
            force,
        } => {
            let bytes =
                output::read_limited(file, sbom::MAX_SBOM_BYTES).map_err(anyhow::Error::msg)?;
            let name = file.display().to_string();
            (
                sbom::observe(&bytes, &name).with_context(|| name.clone())?,
                output,
                *force,
            )
        }
    };
    let mut text = serde_json::to_string_pretty(&obs)?;
    text.push('\n');
    let replace = output::Replace { force, key: None };
    output::write_output(output.as_deref(), text.as_bytes(), replace)
        .map_err(anyhow::Error::msg)?;
    output::stderr_line(&summary(&obs, output.as_deref()));
    Ok(())
}

/// One line on standard error: what the observation holds, and where it went.
fn summary(obs: &Observation, written: Option<&Path>) -> String {
    let mut s = format!("observed {}: ", obs.source.file);
    if let Some(t) = &obs.traffic {
        let contacted: BTreeSet<_> = t.flows.iter().map(|f| f.remote_ip).collect();
        let _ = write!(
            s,
            "{} read, {} from or to device {}, {}, {} contacted",
            output::plural(t.coverage.packets_total, "packet", "packets"),
            t.coverage.packets_device,
            t.device.selector,
            output::plural(t.flows.len() as u64, "flow", "flows"),
            output::plural(contacted.len() as u64, "host", "hosts"),
        );
    }
    if let Some(fw) = &obs.firmware {
        let _ = write!(
            s,
            "firmware {} {}, {}",
            fw.name.as_deref().unwrap_or("(unnamed)"),
            fw.version.as_deref().unwrap_or("(no version)"),
            output::plural(fw.components.len() as u64, "component", "components"),
        );
    }
    if let Some(p) = written {
        let _ = write!(s, "; wrote {}", p.display());
    }
    s
}

/// `--list-hosts`: a table of the capture's devices, busiest first.
fn hosts(file: &Path, allow_truncated: bool) -> anyhow::Result<()> {
    blueprint::input::regular_file(file)?;
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let name = file.display().to_string();
    let list = pcap::list_hosts(
        std::io::BufReader::with_capacity(1 << 20, f),
        &name,
        &pcap::Limits::default(),
        allow_truncated,
    )
    .with_context(|| name.clone())?;
    let mut out = format!(
        "{:<17}  {:<39}  {:>9}  {:>7}\n",
        "MAC", "IP", "PACKETS", "FLOWS"
    );
    for h in &list.hosts {
        let ips = if h.ips.is_empty() {
            "-".to_owned()
        } else {
            h.ips
                .iter()
                .map(|ip| ip.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "{:<17}  {:<39}  {:>9}  {:>7}",
            h.mac.as_deref().unwrap_or("-"),
            ips,
            h.packets,
            h.flows
        );
    }
    output::stdout(out.as_bytes())?;
    output::stderr_line(&format!(
        "{name}: {}, {}{}; pass one MAC or IP as --device",
        output::plural(list.packets_total, "packet", "packets"),
        output::plural(list.hosts.len() as u64, "host", "hosts"),
        if list.partial {
            " (partial: limits reached or file truncated)"
        } else {
            ""
        }
    ));
    Ok(())
}
