//! The registry's public explorer: server-rendered HTML pages of what is
//! deposited, one index page and one page per device, plus their one
//! stylesheet ([`STYLESHEET`]). Pure functions from a [`Registry`] to
//! strings; nothing here prints, listens or writes (the static export is
//! [`super::site_export`]).
//!
//! # Calling it
//!
//! ```text
//! let site = Site::new()?;                          // once: loads the profiles
//! let html = index_page(&mut registry, &site, LinkStyle::Server)?;          // GET /
//! let page = device_page(&mut registry, &site, LinkStyle::Server, id, today)?; // GET /devices/{id}
//! ```
//!
//! Both page functions take `&mut Registry` and read everything a page
//! shows in one SQLite read transaction (one consistent view of the log,
//! even while a writer appends); they block on SQLite and on
//! re-validating a manifest (tens of milliseconds), so an async server calls
//! them on a blocking thread with a registry opened (or locked) for that
//! request. [`Site`] holds the profiles and a cache of device names by
//! deposit digest, and can be shared.
//! [`device_page`] returns `Ok(None)` for an id that was never deposited.
//!
//! Routes the pages expect with [`LinkStyle::Server`]: `GET /` (the
//! index), `GET /devices/{id}` (the id percent-decoded; `None` is a 404),
//! `GET /style.css` ([`STYLESHEET`], `text/css`), and the API paths they
//! link to: `GET /api/v1/entries/{index}`,
//! `GET /api/v1/proofs/inclusion/{index}`, `GET /api/v1/checkpoint`. The
//! pages load nothing but the stylesheet and run no script; the map's SVG
//! carries its own `<style>` element, so a Content-Security-Policy needs
//! `style-src 'self' 'unsafe-inline'` (and can say `script-src 'none'`).
//!
//! # What the pages show
//!
//! The index lists every deposited blueprint id with its vendor, model,
//! latest version, digest and bonds, the latest signed checkpoint and every
//! deviation report with its ruling. A device page shows what the device
//! collects, its data-flow map ([`super::flow`]) with the map in words, the
//! profiles its latest deposited manifest passes when validated again as of
//! the given date (next to what the registry recorded at deposit time), its
//! version history with the entries and proofs, and the reports on it.
//!
//! Every string that comes from a manifest or an entry is escaped
//! ([`super::escape`]): manifests are hostile input. Lists are bounded
//! ([`LIST_MAX`]), so a page has a bounded size however large the registry.

use super::escape;
use super::flow::{FlowMap, FlowOptions, Layer, NodeKind, Zone, flow_map};
use crate::attest::canon::{self, CanonError, Digest};
use crate::attest::dsse::Rejection;
use crate::attest::statement::{self, StatementError};
use crate::diag::Severity;
use crate::escrow::event::{DepositEvent, Event, EventError, EventKind, Outcome, Verdict};
use crate::escrow::ledger::{BondState, DepositRecord, ReportRecord, State};
use crate::escrow::merkle::hash_to_hex;
use crate::escrow::registry::{Registry, RegistryError};
use crate::escrow::store::{StoreError, Tables};
use crate::manifest::document::Limits;
use crate::profile::{ProfileLibrary, Selection};
use crate::source::SourceMap;
use crate::validate::{ValidateOptions, validate_bytes};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::fmt::Write as _;

/// Rows shown per table or list before "and N more".
pub const LIST_MAX: usize = 500;

/// Versions whose bond the index shows per device, newest first.
const BONDS_SHOWN: usize = 8;

/// Why a page could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry's store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An entry the state refers to is missing.
    #[error("entry {0} is missing from the log")]
    MissingEntry(u64),
    /// An entry does not decode.
    #[error("entry {index} does not decode")]
    Entry {
        /// The entry.
        index: u64,
        /// What decoding said.
        #[source]
        source: EventError,
    },
    /// The shipped profiles did not load.
    #[error("the shipped profiles failed to load ({0} problem(s))")]
    Profiles(usize),
    /// A deposit entry's envelope payload is not base64.
    #[error("entry {index}: the deposit envelope's payload cannot be read")]
    Payload {
        /// The entry.
        index: u64,
        /// What DSSE said.
        #[source]
        source: Rejection,
    },
    /// A deposit entry's statement does not parse as a deposit.
    #[error("entry {index}: not a blueprint deposit statement")]
    Statement {
        /// The entry.
        index: u64,
        /// What the statement check said.
        #[source]
        source: StatementError,
    },
    /// The entry a deposit record points at is not a deposit.
    #[error("entry {0} is recorded as a deposit but is not one")]
    NotDeposit(u64),
    /// A manifest could not be canonicalized for validation.
    #[error(transparent)]
    Canon(#[from] CanonError),
}

/// Where the pages link to: the server's paths, or the relative paths of a
/// static export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// `/`, `/devices/{id}` (percent-encoded), `/style.css`, and the API
    /// under `/api/v1/`.
    Server,
    /// `index.html`, `devices/<safe-name>.html` ([`safe_name`]),
    /// `style.css`, relative to each page; the checkpoint is the
    /// `checkpoint` file `blueprint registry tiles` writes next to them.
    /// A static export has no API, so entries and proofs are not links.
    Static,
}

/// The page a link is written on (relative links depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Index,
    Device,
}

impl LinkStyle {
    fn up(self, from: Page) -> &'static str {
        match (self, from) {
            (LinkStyle::Static, Page::Device) => "../",
            _ => "",
        }
    }

    fn stylesheet(self, from: Page) -> String {
        match self {
            LinkStyle::Server => "/style.css".into(),
            LinkStyle::Static => format!("{}style.css", self.up(from)),
        }
    }

    fn index(self, from: Page) -> String {
        match self {
            LinkStyle::Server => "/".into(),
            LinkStyle::Static => format!("{}index.html", self.up(from)),
        }
    }

    fn device(self, from: Page, id: &str) -> String {
        match (self, from) {
            (LinkStyle::Server, _) => format!("/devices/{}", percent_encode(id)),
            (LinkStyle::Static, Page::Index) => format!("devices/{}.html", safe_name(id)),
            (LinkStyle::Static, Page::Device) => format!("{}.html", safe_name(id)),
        }
    }

    /// `GET /api/v1/entries/{index}`.
    fn entry(self, index: u64) -> Option<String> {
        (self == LinkStyle::Server).then(|| format!("/api/v1/entries/{index}"))
    }

    /// `GET /api/v1/proofs/inclusion/{index}`.
    fn inclusion(self, index: u64) -> Option<String> {
        (self == LinkStyle::Server).then(|| format!("/api/v1/proofs/inclusion/{index}"))
    }

    /// `GET /api/v1/checkpoint`, or the exported tiles' checkpoint file.
    fn checkpoint(self, from: Page) -> String {
        match self {
            LinkStyle::Server => "/api/v1/checkpoint".into(),
            LinkStyle::Static => format!("{}checkpoint", self.up(from)),
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id
/// is one path segment.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A file name (without extension) for a blueprint id that is safe on any
/// file system and distinct for distinct ids: the id itself when it is 1 to
/// 64 characters of `a-z 0-9 . _ -` starting with a letter or digit, else
/// `_` and the first 32 hex digits of its SHA-256 (plain names never start
/// with `_`, so the two kinds never collide; lower case only, so
/// case-insensitive file systems cannot merge two ids).
pub fn safe_name(id: &str) -> String {
    let plain = (1..=64).contains(&id.len())
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if plain {
        return id.to_owned();
    }
    let digest = Sha256::digest(id.as_bytes());
    let mut out = String::from("_");
    for b in &digest[..16] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// What every page needs: the profiles to validate against and the link
/// style. Immutable once made; share it between requests.
#[derive(Debug)]
pub struct Site {
    library: ProfileLibrary,
    /// The profile files the library's diagnostics point into.
    map: SourceMap,
    /// Bounds of the data-flow map.
    pub flow: FlowOptions,
    /// "Vendor Model" by deposit digest: the index names every device, and
    /// decoding each deposited manifest on every request made the index cost
    /// grow with the size of all manifests. A digest names one manifest
    /// forever, so an entry never goes stale.
    names: std::sync::Mutex<std::collections::HashMap<Digest, String>>,
}

/// Device names kept by [`Site`] before the cache starts over.
const NAME_CACHE_MAX: usize = 100_000;

impl Site {
    /// The device name of the deposit at `index` whose digest is `digest`.
    fn device_name_at(
        &self,
        t: &Tables<'_>,
        index: u64,
        digest: Option<&Digest>,
    ) -> Result<String, SiteError> {
        if let Some(d) = digest
            && let Some(n) = self.names.lock().ok().and_then(|m| m.get(d).cloned())
        {
            return Ok(n);
        }
        let (_, manifest) = deposit_at(t, index)?;
        let name = device_name(&manifest);
        if let (Some(d), Ok(mut m)) = (digest, self.names.lock()) {
            if m.len() >= NAME_CACHE_MAX {
                m.clear();
            }
            m.insert(*d, name.clone());
        }
        Ok(name)
    }
}

impl Site {
    /// A site over the shipped profiles.
    pub fn new() -> Result<Self, SiteError> {
        let mut map = SourceMap::new();
        let library =
            ProfileLibrary::builtin(&mut map).map_err(|d| SiteError::Profiles(d.len()))?;
        Ok(Site {
            library,
            map,
            flow: FlowOptions::default(),
            names: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }
}

/// The entry at `index`, decoded.
fn entry(t: &Tables<'_>, index: u64) -> Result<Event, SiteError> {
    let row = t.entry(index)?.ok_or(SiteError::MissingEntry(index))?;
    Event::decode(&row.bytes).map_err(|source| SiteError::Entry { index, source })
}

/// A deposit entry and the manifest its envelope carries (as the registry
/// holds it).
fn deposit_at(t: &Tables<'_>, index: u64) -> Result<(Box<DepositEvent>, Value), SiteError> {
    let EventKind::Deposit(d) = entry(t, index)?.kind else {
        return Err(SiteError::NotDeposit(index));
    };
    let payload = d
        .envelope
        .payload_bytes()
        .map_err(|source| SiteError::Payload { index, source })?;
    let deposit = statement::parse_deposit(&payload)
        .map_err(|source| SiteError::Statement { index, source })?;
    Ok((d, deposit.manifest))
}

fn text_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `Vendor Model` of a manifest.
fn device_name(m: &Value) -> String {
    format!(
        "{} {}",
        text_at(m, "/vendor/legal_name").unwrap_or("Unknown vendor"),
        text_at(m, "/device/model").unwrap_or("unknown model")
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `sha256:0123456789ab…` with the full digest in the title and for
/// copying (screen readers read the full one).
fn digest_html(d: &Digest) -> String {
    let full = d.to_string();
    let short: String = full.chars().take("sha256:".len() + 12).collect();
    format!(
        "<code class=\"digest\" title=\"{full}\"><span aria-hidden=\"true\">{short}…</span><span class=\"vh\">{full}</span></code>"
    )
}

/// A link when the style has one, else the text alone.
fn maybe_link(href: Option<String>, text: &str) -> String {
    match href {
        Some(h) => format!("<a href=\"{}\">{text}</a>", escape(&h)),
        None => text.to_owned(),
    }
}

fn bond_html(d: &DepositRecord) -> String {
    let class = match d.bond_state {
        BondState::Held => "held",
        BondState::Forfeited => "forfeited",
        BondState::Released => "released",
    };
    format!(
        "<span class=\"bond {class}\">{} {} {}</span>",
        escape(d.bond.amount.as_str()),
        escape(d.bond.currency.as_str()),
        d.bond_state.as_str()
    )
}

/// Why a bond is in its state, in words.
fn bond_reason(d: &DepositRecord) -> String {
    match (d.bond_state, d.bond_changed_at, d.superseded_by) {
        (BondState::Forfeited, Some(i), _) => format!("forfeited by the ruling at entry {i}"),
        (BondState::Released, Some(i), _) => format!("released at entry {i}"),
        (BondState::Held, _, Some(by)) => match d.support_end {
            Some(end) => {
                format!("superseded by entry {by}; held until its support ends on {end}")
            }
            None => format!("superseded by entry {by}; held (no support end stated)"),
        },
        (BondState::Held, _, None) => match d.support_end {
            Some(end) => format!("current version; held until its support ends on {end}"),
            None => "current version; held (no support end stated)".into(),
        },
        (state, None, _) => state.as_str().into(),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Deviations => "deviations shown",
        Verdict::Insufficient => "insufficient evidence",
        Verdict::None => "no deviation",
    }
}

fn ruling_html(r: &ReportRecord, links: LinkStyle) -> String {
    match r.ruling {
        Some((i, Outcome::Forfeit)) => format!(
            "<strong class=\"bad\">bond forfeited</strong> ({})",
            maybe_link(links.entry(i), &format!("entry {i}"))
        ),
        Some((i, Outcome::Dismissed)) => format!(
            "<strong class=\"ok\">dismissed</strong> ({})",
            maybe_link(links.entry(i), &format!("entry {i}"))
        ),
        None => "pending".into(),
    }
}

/// Head, header and the opening of `<main>`.
fn open_page(o: &mut String, title: &str, css: &str, home: Option<&str>) {
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n\
         <meta name=\"generator\" content=\"blueprint {}\" />\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{}\" />\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\n<header>\n<nav aria-label=\"Site\">",
        env!("CARGO_PKG_VERSION"),
        escape(title),
        escape(css)
    );
    match home {
        Some(href) => {
            let _ = write!(o, "<a href=\"{}\">Escrow registry</a>", escape(href));
        }
        None => o.push_str("<span aria-current=\"page\">Escrow registry</span>"),
    }
    o.push_str("</nav>\n</header>\n<main id=\"main\">\n");
}

fn close_page(o: &mut String) {
    let _ = write!(
        o,
        "</main>\n<footer>\n<p>Made by blueprint {} from the registry's log. Every bond state is a \
         function of the log's entries; <code>blueprint registry replay</code> recomputes it and \
         <code>blueprint proof verify-inclusion</code> checks an entry against a signed checkpoint.</p>\n\
         </footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
}

/// Opens a table that scrolls sideways inside its own box.
fn open_table(o: &mut String, caption: &str, heads: &[&str]) {
    let _ = write!(
        o,
        "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"{} (scrolls sideways)\">\n<table>\n<caption>{}</caption>\n<thead><tr>",
        escape(caption),
        escape(caption)
    );
    for h in heads {
        let _ = write!(o, "<th scope=\"col\">{h}</th>");
    }
    o.push_str("</tr></thead>\n<tbody>\n");
}

fn close_table(o: &mut String, total: usize, what: &str) {
    o.push_str("</tbody>\n</table>\n</div>\n");
    if total > LIST_MAX {
        let _ = writeln!(
            o,
            "<p class=\"note\">and {} more {what} not listed.</p>",
            total - LIST_MAX
        );
    }
}

/// The index page: every device, its bonds, the latest checkpoint and the
/// deviation reports with their rulings.
pub fn index_page(reg: &mut Registry, site: &Site, links: LinkStyle) -> Result<String, SiteError> {
    let tx = reg.store_mut().read()?;
    let t = tx.tables();
    let state = t.load_state()?;
    let checkpoint = t.latest_checkpoint()?.ok_or(RegistryError::NotFound(
        "the registry has no checkpoint".into(),
    ))?;
    let last_time = match checkpoint.size {
        0 => None,
        n => Some(entry(&t, n - 1)?.time),
    };
    let origin = state
        .config
        .as_ref()
        .map_or(String::new(), |c| c.origin.as_str().to_owned());
    let mut o = String::with_capacity(32 * 1024);
    open_page(
        &mut o,
        &format!("Escrow registry {origin}"),
        &links.stylesheet(Page::Index),
        None,
    );
    let _ = write!(
        o,
        "<h1>Escrow registry <span class=\"origin\">{}</span></h1>\n\
         <p class=\"lede\">{} deposited, each with its privacy blueprint, its bond and every \
         report on it. The registry is an append-only Merkle log: each deposit, report and ruling is \
         one entry under a signed checkpoint.</p>\n",
        escape(&origin),
        plural(state.blueprints.len(), "device", "devices"),
    );
    o.push_str("<section aria-labelledby=\"devices\">\n<h2 id=\"devices\">Devices</h2>\n");
    if state.blueprints.is_empty() {
        o.push_str("<p>Nothing has been deposited yet.</p>\n");
    } else {
        open_table(
            &mut o,
            "Devices, their bonds and latest versions",
            &[
                "Device",
                "Bonds",
                "Latest version",
                "Blueprint id",
                "Digest",
                "Deposited",
            ],
        );
        for bp in state.blueprints.values().take(LIST_MAX) {
            let latest = state
                .deposits
                .get(&(bp.blueprint_id.clone(), bp.latest_version));
            let name = site.device_name_at(&t, bp.latest_index, latest.map(|d| &d.digest))?;
            let versions = state
                .deposits
                .range((bp.blueprint_id.clone(), 0)..=(bp.blueprint_id.clone(), u64::MAX));
            let total = versions.clone().count();
            let mut bonds: Vec<String> = versions
                .rev()
                .take(BONDS_SHOWN)
                .map(|(_, d)| format!("<li>v{}: {}</li>", d.version, bond_html(d)))
                .collect();
            if total > BONDS_SHOWN {
                bonds.push(format!(
                    "<li>and {} older (on the device page)</li>",
                    total - BONDS_SHOWN
                ));
            }
            let _ = writeln!(
                o,
                "<tr><th scope=\"row\"><a href=\"{}\">{}</a></th><td><ul class=\"bonds\">{}</ul></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&links.device(Page::Index, &bp.blueprint_id)),
                escape(&name),
                bonds.join(""),
                maybe_link(
                    links.entry(bp.latest_index),
                    &format!("{} (entry {})", bp.latest_version, bp.latest_index)
                ),
                escape(&bp.blueprint_id),
                latest.map_or(String::new(), |d| digest_html(&d.digest)),
                latest.map_or(String::new(), |d| d.time.to_string()),
            );
        }
        close_table(&mut o, state.blueprints.len(), "devices");
    }
    o.push_str("</section>\n");
    reports_section(&mut o, &state, None, links, Page::Index);
    o.push_str(
        "<section aria-labelledby=\"checkpoint\">\n<h2 id=\"checkpoint\">Latest checkpoint</h2>\n",
    );
    let _ = write!(
        o,
        "<dl class=\"facts\">\n<dt>Tree size</dt><dd>{}</dd>\n<dt>Root hash</dt><dd><code class=\"hash\">{}</code></dd>\n<dt>Last entry</dt><dd>{}</dd>\n</dl>\n\
         <p>The signed note (<a href=\"{}\">checkpoint</a>), a C2SP signed note over the tree size and root:</p>\n<pre class=\"note-text\">{}</pre>\n</section>\n",
        plural(checkpoint.size as usize, "entry", "entries"),
        hash_to_hex(&checkpoint.root),
        last_time.map_or("none".into(), |t| t.to_string()),
        escape(&links.checkpoint(Page::Index)),
        escape(&checkpoint.note)
    );
    close_page(&mut o);
    Ok(o)
}

/// The reports section: every report (`only`: on one blueprint id).
fn reports_section(
    o: &mut String,
    state: &State,
    only: Option<&str>,
    links: LinkStyle,
    from: Page,
) {
    let reports: Vec<&ReportRecord> = {
        let mut v: Vec<&ReportRecord> = state
            .reports
            .values()
            .filter(|r| only.is_none_or(|id| r.blueprint_id == id))
            .collect();
        v.sort_by_key(|r| r.index);
        v
    };
    o.push_str(
        "<section aria-labelledby=\"reports\">\n<h2 id=\"reports\">Deviation reports and rulings</h2>\n",
    );
    if reports.is_empty() {
        o.push_str("<p>No deviation report has been filed.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        o,
        "<p>Members (labs, regulators) file signed reports on a deposited version; after the \
         rebuttal window, the ruling forfeits the bond or dismisses the report. {}.</p>",
        plural(reports.len(), "report", "reports")
    );
    open_table(
        o,
        "Deviation reports and rulings",
        &[
            "Report", "Device", "Classes", "Evidence", "Signers", "Rebuttal", "Ruling",
        ],
    );
    for r in reports.iter().take(LIST_MAX) {
        let device = if only.is_some() {
            format!("version {}", r.version)
        } else {
            format!(
                "<a href=\"{}\"><code>{}</code></a> version {}",
                escape(&links.device(from, &r.blueprint_id)),
                escape(&r.blueprint_id),
                r.version
            )
        };
        let classes: Vec<String> = r.classes.iter().take(50).map(|c| escape(c)).collect();
        let rebuttal = match r.rebuttal {
            Some(i) => format!(
                "{}, accepted by {}",
                maybe_link(links.entry(i), &format!("entry {i}")),
                plural(r.rebuttal_accepted_by.len(), "member", "members")
            ),
            None => "none".into(),
        };
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\">{}</th><td>{device}</td><td>{}</td><td>{}</td><td>{}</td><td>{rebuttal}</td><td>{}</td></tr>",
            maybe_link(links.entry(r.index), &format!("entry {}", r.index)),
            classes.join(", "),
            verdict_word(r.verdict),
            r.signers.len(),
            ruling_html(r, links),
        );
    }
    close_table(o, reports.len(), "reports");
    o.push_str("</section>\n");
}

/// A device's page, or `None` when `id` was never deposited. The latest
/// deposited manifest is validated again as of `as_of`.
pub fn device_page(
    reg: &mut Registry,
    site: &Site,
    links: LinkStyle,
    id: &str,
    as_of: time::Date,
) -> Result<Option<String>, SiteError> {
    let tx = reg.store_mut().read()?;
    let t = tx.tables();
    let state = t.load_state()?;
    let Some(bp) = state.blueprints.get(id) else {
        return Ok(None);
    };
    let history: Vec<&DepositRecord> = state
        .deposits
        .range((id.to_owned(), 0)..=(id.to_owned(), u64::MAX))
        .map(|(_, d)| d)
        .collect();
    let (deposit, m) = deposit_at(&t, bp.latest_index)?;
    drop(tx);
    let name = device_name(&m);
    let latest = history.last().copied();
    let mut o = String::with_capacity(64 * 1024);
    open_page(
        &mut o,
        &format!("{name}: escrowed privacy blueprint"),
        &links.stylesheet(Page::Device),
        Some(&links.index(Page::Device)),
    );
    let _ = write!(
        o,
        "<h1>{}</h1>\n<p class=\"lede\">Blueprint <code>{}</code>: latest version {} ({} deposited).",
        escape(&name),
        escape(id),
        bp.latest_version,
        plural(history.len(), "version", "versions"),
    );
    if let Some(d) = latest {
        let _ = write!(o, " Bond: {} ({}).", bond_html(d), escape(&bond_reason(d)));
    }
    o.push_str("</p>\n");
    facts(&mut o, &m, bp.vendor_key.id().to_string(), latest);
    collects(&mut o, &m);
    let map = flow_map(&m, site.library.reference(), &site.flow);
    flow_section(&mut o, &map, &name);
    profiles_section(&mut o, site, id, &m, &deposit.validation, as_of)?;
    history_section(&mut o, &history, links);
    reports_section(&mut o, &state, Some(id), links, Page::Device);
    close_page(&mut o);
    Ok(Some(o))
}

fn facts(o: &mut String, m: &Value, keyid: String, latest: Option<&DepositRecord>) {
    o.push_str("<section aria-labelledby=\"identity\">\n<h2 id=\"identity\">Device</h2>\n<dl class=\"facts\">\n");
    let rows = [
        ("Vendor", text_at(m, "/vendor/legal_name")),
        ("Headquarters", text_at(m, "/vendor/hq_country")),
        ("Model", text_at(m, "/device/model")),
        ("Product class", text_at(m, "/device/product_class")),
        ("Firmware", text_at(m, "/device/firmware/version")),
    ];
    for (k, v) in rows {
        if let Some(v) = v {
            let _ = writeln!(o, "<dt>{k}</dt><dd>{}</dd>", escape(v));
        }
    }
    let markets: Vec<&str> = arr(m.get("markets"))
        .iter()
        .filter_map(Value::as_str)
        .take(100)
        .collect();
    if !markets.is_empty() {
        let _ = writeln!(
            o,
            "<dt>Sold in</dt><dd>{}</dd>",
            escape(&markets.join(", "))
        );
    }
    if let Some(d) = latest {
        let _ = writeln!(
            o,
            "<dt>Digest</dt><dd><code class=\"hash\">{}</code></dd>\n<dt>Deposited</dt><dd>{}</dd>",
            d.digest, d.time
        );
        if let Some(end) = d.support_end {
            let _ = writeln!(o, "<dt>Security support until</dt><dd>{end}</dd>");
        }
    }
    let _ = writeln!(
        o,
        "<dt>Vendor key</dt><dd><code class=\"hash\">sha256:{keyid}</code></dd>\n</dl>\n</section>"
    );
}

fn collects(o: &mut String, m: &Value) {
    let items = arr(m.get("data_items"));
    let sensors = arr(m.get("sensors"));
    let _ = writeln!(
        o,
        "<section aria-labelledby=\"collects\">\n<h2 id=\"collects\">What it collects</h2>\n<p>{} from {}.</p>",
        plural(items.len(), "data item", "data items"),
        plural(sensors.len(), "sensor", "sensors"),
    );
    if items.is_empty() {
        o.push_str("</section>\n");
        return;
    }
    open_table(
        o,
        "Data items: category, purposes, retention",
        &["Data item", "Category", "Purposes", "Retention"],
    );
    for item in items.iter().take(LIST_MAX) {
        let purposes: Vec<&str> = arr(item.get("purposes"))
            .iter()
            .filter_map(Value::as_str)
            .take(50)
            .collect();
        let days = item
            .pointer("/retention/period_days")
            .and_then(Value::as_u64);
        let retention = match days {
            Some(d) => plural(d as usize, "day", "days"),
            None => "no fixed period".into(),
        };
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\">{}<br /><code>{}</code></th><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(text_at(item, "/name").unwrap_or("")),
            escape(text_at(item, "/id").unwrap_or("?")),
            escape(text_at(item, "/category").unwrap_or("")),
            escape(&purposes.join(", ")),
            escape(&retention),
        );
    }
    close_table(o, items.len(), "data items");
    o.push_str("</section>\n");
}

/// The map, and the same links in words for people who cannot see it.
fn flow_section(o: &mut String, map: &FlowMap, name: &str) {
    let svg = map
        .to_svg(name)
        .replacen("<svg ", "<svg aria-describedby=\"flow-words\" ", 1);
    let _ = write!(
        o,
        "<section aria-labelledby=\"flow\">\n<h2 id=\"flow\">Data-flow map</h2>\n\
         <p>Sensors produce data items; items go to recipients and network endpoints, which are in \
         countries. Boxes group the countries by protective zone (data crossing a box's border is a \
         transfer under that zone's law). Dashed red links are declared cross-border transfers; grey \
         dashed items are not transferred.</p>\n\
         <figure>\n<div class=\"scroll map\" role=\"region\" tabindex=\"0\" aria-label=\"Data-flow map (scrolls sideways)\">\n{svg}</div>\n\
         <figcaption>Data-flow map of {}. The list below says the same in words.</figcaption>\n</figure>\n",
        escape(name)
    );
    o.push_str("<h3 id=\"flow-words-head\">The map in words</h3>\n<div id=\"flow-words\">\n");
    let groups = [
        (Layer::Sensor, "Sensors and the data items they produce"),
        (Layer::Item, "Data items and where they go"),
        (
            Layer::Receiver,
            "Recipients and endpoints and their countries",
        ),
    ];
    for (layer, title) in groups {
        let mut lines: Vec<String> = Vec::new();
        for &i in &map.columns[layer_column(layer)] {
            let n = &map.nodes[i];
            let to: Vec<String> = map
                .edges
                .iter()
                .filter(|e| e.from == i)
                .map(|e| {
                    let t = &map.nodes[e.to];
                    let what = if t.kind == NodeKind::Country {
                        t.title.clone()
                    } else {
                        t.label.clone()
                    };
                    if e.cross_border {
                        format!("{what} (declared cross-border transfer)")
                    } else {
                        what
                    }
                })
                .collect();
            let target = if to.is_empty() {
                match n.kind {
                    NodeKind::LocalItem => "not transferred".to_owned(),
                    _ => "nowhere".to_owned(),
                }
            } else {
                to.join(", ")
            };
            lines.push(format!(
                "<li><strong>{}</strong> → {}</li>",
                escape(&n.label),
                escape(&target)
            ));
        }
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "<h4>{title}</h4>\n<ul class=\"flows\">\n{}\n</ul>",
            lines.join("\n")
        );
    }
    let zones = map.countries();
    if !zones.is_empty() {
        o.push_str("<h4>Countries by protective zone</h4>\n<ul class=\"flows\">\n");
        for (zone, list) in &zones {
            let _ = writeln!(
                o,
                "<li><strong>{}</strong>: {}</li>",
                zone.map_or("Outside these zones", Zone::label),
                escape(&list.join(", "))
            );
        }
        o.push_str("</ul>\n");
    }
    if map.edges_omitted > 0 {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} more links are not drawn or listed.</p>",
            map.edges_omitted
        );
    }
    o.push_str("</div>\n</section>\n");
}

fn layer_column(layer: Layer) -> usize {
    match layer {
        Layer::Sensor => 0,
        Layer::Item => 1,
        Layer::Receiver => 2,
        Layer::Country => 3,
    }
}

fn profiles_section(
    o: &mut String,
    site: &Site,
    id: &str,
    m: &Value,
    recorded: &crate::escrow::event::DepositValidation,
    as_of: time::Date,
) -> Result<(), SiteError> {
    let bytes = canon::canonicalize(m)?;
    let mut map = site.map.clone();
    let options = ValidateOptions {
        schema_only: false,
        as_of,
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let report = validate_bytes(
        &mut map,
        Some(&site.library),
        &format!("{id}.json"),
        &bytes,
        &options,
    );
    let _ = write!(
        o,
        "<section aria-labelledby=\"profiles\">\n<h2 id=\"profiles\">Profiles it passes</h2>\n\
         <p>At deposit the registry validated this version as of {}: {} against {}. \
         Validated again as of {as_of}: <strong class=\"{}\">{}</strong>, {}, {}.</p>\n",
        recorded.as_of,
        plural(recorded.errors as usize, "error", "errors"),
        plural(recorded.profiles.len(), "profile", "profiles"),
        if report.passed() { "ok" } else { "bad" },
        if report.passed() {
            "passes"
        } else {
            "does not pass"
        },
        plural(report.counts.error, "error", "errors"),
        plural(report.counts.warning, "warning", "warnings"),
    );
    if report.profiles.is_empty() {
        o.push_str("<p>No profile could be evaluated: the manifest does not pass the schema and reference checks.</p>\n</section>\n");
        return Ok(());
    }
    open_table(
        o,
        &format!("Profiles that apply, as of {as_of}"),
        &["Profile", "Law or standard", "Result", "Errors", "Warnings"],
    );
    for p in &report.profiles {
        let count = |s: Severity| {
            report
                .diagnostics
                .iter()
                .filter(|d| d.severity == s && d.rule.as_ref().is_some_and(|r| &r.profile == p))
                .count()
        };
        let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
        let title = site.library.profile(p).map_or("", |p| p.title.as_str());
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td class=\"{}\">{}</td><td>{errors}</td><td>{warnings}</td></tr>",
            escape(p),
            escape(title),
            if errors == 0 { "ok" } else { "bad" },
            if errors == 0 { "passes" } else { "fails" },
        );
    }
    close_table(o, 0, "profiles");
    o.push_str("</section>\n");
    Ok(())
}

fn history_section(o: &mut String, history: &[&DepositRecord], links: LinkStyle) {
    o.push_str("<section aria-labelledby=\"history\">\n<h2 id=\"history\">Version history</h2>\n");
    open_table(
        o,
        "Versions, newest first",
        &["Version", "Entry", "Deposited", "Digest", "Bond", "Proofs"],
    );
    for d in history.iter().rev().take(LIST_MAX) {
        let proof = match links.inclusion(d.index) {
            Some(href) => format!("<a href=\"{}\">inclusion proof</a>", escape(&href)),
            None => format!("<code>blueprint registry prove --index {}</code>", d.index),
        };
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}<br /><span class=\"meta\">{}</span></td><td>{proof}</td></tr>",
            d.version,
            maybe_link(links.entry(d.index), &format!("entry {}", d.index)),
            d.time,
            digest_html(&d.digest),
            bond_html(d),
            escape(&bond_reason(d)),
        );
    }
    close_table(o, history.len(), "versions");
    o.push_str("</section>\n");
}

/// The one stylesheet of every page (served at `/style.css`): system
/// fonts, WCAG 2.1 AA contrast, readable from 320 px up; wide tables and
/// the map scroll inside their own box, never the page.
pub const STYLESHEET: &str = include_str!("site.css");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_are_plain_or_hashed_and_never_paths() {
        assert_eq!(safe_name("voltaris-em5"), "voltaris-em5");
        assert_eq!(safe_name("a.b_c-1"), "a.b_c-1");
        for hostile in ["..", "../x", "a/b", "Upper", ".hidden", "", "x\u{0}", "é"] {
            let n = safe_name(hostile);
            assert!(n.starts_with('_') && n.len() == 33, "{hostile:?} -> {n}");
            assert!(n.bytes().all(|b| b == b'_' || b.is_ascii_hexdigit()));
        }
        assert_ne!(safe_name("Upper"), safe_name("upper"));
        assert_eq!(safe_name(&"a".repeat(64)), "a".repeat(64));
        assert!(safe_name(&"a".repeat(65)).starts_with('_'));
    }

    #[test]
    fn a_site_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Site>();
    }

    #[test]
    fn percent_encoding_keeps_one_path_segment() {
        assert_eq!(percent_encode("voltaris-em5"), "voltaris-em5");
        assert_eq!(percent_encode("a/b c?#é"), "a%2Fb%20c%3F%23%C3%A9");
    }

    #[test]
    fn links_follow_the_style_and_the_page() {
        let s = LinkStyle::Server;
        assert_eq!(s.device(Page::Index, "a b"), "/devices/a%20b");
        assert_eq!(s.stylesheet(Page::Device), "/style.css");
        assert_eq!(s.entry(3).as_deref(), Some("/api/v1/entries/3"));
        assert_eq!(
            s.inclusion(3).as_deref(),
            Some("/api/v1/proofs/inclusion/3")
        );
        assert_eq!(s.checkpoint(Page::Device), "/api/v1/checkpoint");
        let t = LinkStyle::Static;
        assert_eq!(t.device(Page::Index, "m"), "devices/m.html");
        assert_eq!(t.device(Page::Device, "m"), "m.html");
        assert_eq!(t.stylesheet(Page::Device), "../style.css");
        assert_eq!(t.index(Page::Device), "../index.html");
        assert_eq!(t.entry(3), None);
    }
}
