//! The log as static files in the C2SP tlog-tiles layout, and a reader that
//! checks such a directory against the log key alone (`docs/log.md`,
//! "Static tiles").
//!
//! C2SP tlog-tiles: `checkpoint` is the signed note; `tile/<L>/<N>` holds
//! 256 consecutive Merkle tree hashes of tree level `8·L` (level 0: leaf
//! hashes); `tile/entries/<N>` the matching entries, each a big-endian
//! `uint16` length and the bytes. The rightmost tiles of a level are
//! partial, `.p/<W>` with `W` hashes (1..=255). `N` is written in 3-digit
//! groups, all but the last prefixed by `x` (`x001/x234/067`).
//!
//! Export reads one snapshot of the store (one read transaction), writes
//! every file atomically (temporary file, fsync, rename, directory fsync)
//! and the checkpoint last, so a reader never sees a checkpoint whose tiles
//! are missing. Full tiles are immutable: one already present is kept.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::attest::keys::PublicKey;
use crate::escrow::checkpoint::{self, CheckpointError, MAX_NOTE_BYTES};
use crate::escrow::ledger::StateStore;
use crate::escrow::merkle::{self, Hash, NodeReader};
use crate::escrow::registry::Registry;
use crate::escrow::store::{StoreError, Tables};

/// Hashes in a full tile (C2SP tlog-tiles: tiles of height 8).
pub const TILE_WIDTH: u64 = 256;
/// Merkle tree levels spanned by one tile.
pub const TILE_HEIGHT: u8 = 8;
/// Largest entry an entry bundle can hold (its length is a `uint16`).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;
/// Bytes of a full hash tile.
const FULL_TILE_BYTES: usize = TILE_WIDTH as usize * merkle::HASH_LEN;
/// Largest entry bundle a reader accepts (256 entries of the largest size).
const MAX_BUNDLE_BYTES: u64 = TILE_WIDTH * (2 + MAX_ENTRY_BYTES as u64);

/// Why tiles could not be written or do not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TilesError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The registry store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An entry is longer than an entry bundle can carry.
    #[error(
        "entry {index} is {len} bytes; C2SP tlog-tiles entry bundles carry at most {MAX_ENTRY_BYTES}"
    )]
    EntryTooLarge {
        /// The entry's index.
        index: u64,
        /// Its length.
        len: usize,
    },
    /// The registry has no signed checkpoint or no configuration.
    #[error("the registry has no {0}")]
    Missing(&'static str),
    /// The checkpoint does not verify under the log key.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The output directory already publishes a checkpoint that the
    /// registry's does not extend.
    #[error("{path} publishes {found}; refusing to replace it with {ours}")]
    Published {
        /// The published checkpoint file.
        path: PathBuf,
        /// What it publishes (origin, size, root).
        found: String,
        /// What the registry would publish.
        ours: String,
    },
    /// A tile or bundle is missing, has the wrong length or cannot be parsed.
    #[error("{path}: {detail}")]
    Malformed {
        /// The tile's path below the log directory.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A path that is not a tile or entry bundle path (C2SP tlog-tiles).
    #[error("{0:?} is not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])")]
    NotATilePath(String),
    /// A tile the latest signed tree does not (yet) cover.
    #[error("{path}: the signed tree of size {size} does not cover this tile")]
    Beyond {
        /// The tile's path.
        path: String,
        /// The latest signed size.
        size: u64,
    },
    /// A tile does not hash to the value the level above (or the
    /// checkpoint) holds.
    #[error("{path}: {detail}")]
    Mismatch {
        /// The tile's path below the log directory.
        path: String,
        /// What does not match.
        detail: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> TilesError + '_ {
    move |source| TilesError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `N` in 3-digit path elements, all but the last prefixed by `x`
/// (C2SP tlog-tiles): 1234067 → `x001/x234/067`.
pub fn index_path(n: u64) -> String {
    let mut groups = vec![n % 1000];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn width_suffix(width: u64) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// Path of hash tile `n` of tile level `level` with `width` hashes.
pub fn tile_path(level: u8, n: u64, width: u64) -> String {
    format!("tile/{level}/{}{}", index_path(n), width_suffix(width))
}

/// Path of entry bundle `n` with `width` entries.
pub fn entries_path(n: u64, width: u64) -> String {
    format!("tile/entries/{}{}", index_path(n), width_suffix(width))
}

/// One tile of a tree: its tile level, index and width (1..=256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Tile level: its hashes are tree nodes of level `8 · level`.
    pub level: u8,
    /// Index within the level.
    pub index: u64,
    /// Number of hashes (256 for a full tile).
    pub width: u64,
}

/// Every hash tile of a tree of `size` entries, level by level, left to
/// right: at tile level `L` there are `size >> 8L` hashes.
pub fn tiles_of(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    let mut level = 0u8;
    loop {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let count = size.checked_shr(shift).unwrap_or(0);
        if count == 0 {
            break;
        }
        for index in 0..count / TILE_WIDTH {
            out.push(Tile {
                level,
                index,
                width: TILE_WIDTH,
            });
        }
        if count % TILE_WIDTH != 0 {
            out.push(Tile {
                level,
                index: count / TILE_WIDTH,
                width: count % TILE_WIDTH,
            });
        }
        level += 1;
    }
    out
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Tree size of the exported checkpoint.
    pub size: u64,
    /// Files written (paths below the output directory), checkpoint last.
    pub written: Vec<String>,
    /// Full tiles and bundles already present and kept.
    pub kept: usize,
}

/// Writes the registry's log as of its latest checkpoint into `out` in the
/// tlog-tiles layout. Full tiles already in `out` are kept; partial tiles
/// and the checkpoint are (re)written. Refuses when `out` publishes a
/// checkpoint of another origin, a larger size, or the same size with
/// another root.
pub fn export(registry: &mut Registry, out: &Path) -> Result<ExportReport, TilesError> {
    let snapshot = registry.store_mut().read()?;
    let t = snapshot.tables();
    let config = t.config()?.ok_or(TilesError::Missing("configuration"))?;
    let latest = t
        .latest_checkpoint()?
        .ok_or(TilesError::Missing("signed checkpoint"))?;
    let ours = checkpoint::verify(latest.note.as_bytes(), &config.log_key, None)?;
    check_published(out, &ours.checkpoint, &config.log_key)?;
    let size = latest.size;
    let mut report = ExportReport {
        size,
        written: Vec::new(),
        kept: 0,
    };
    for tile in tiles_of(size) {
        let full = tile.width == TILE_WIDTH;
        let path = tile_path(tile.level, tile.index, tile.width);
        let file = out.join(&path);
        if full
            && file
                .metadata()
                .is_ok_and(|m| m.len() == FULL_TILE_BYTES as u64)
        {
            report.kept += 1;
        } else {
            let hashes = tile_hashes(&t, tile)?;
            write_atomic(&file, &hashes.concat())?;
            report.written.push(path);
        }
        if tile.level == 0 {
            let path = entries_path(tile.index, tile.width);
            let file = out.join(&path);
            if full && file.exists() {
                report.kept += 1;
            } else {
                write_atomic(&file, &bundle(&t, tile)?)?;
                report.written.push(path);
            }
        }
    }
    write_atomic(&out.join("checkpoint"), latest.note.as_bytes())?;
    report.written.push("checkpoint".into());
    Ok(report)
}

/// Parses a tile or entry-bundle path (`tile/…`, C2SP tlog-tiles): the
/// tile and whether it names the entry bundle. Only the canonical spelling
/// is accepted, so `..`, extra slashes or leading zeros never match.
pub fn parse_tile_path(path: &str) -> Option<(Tile, bool)> {
    let rest = path.strip_prefix("tile/")?;
    let (level, entries, rest) = match rest.strip_prefix("entries/") {
        Some(r) => (0u8, true, r),
        None => {
            let (l, r) = rest.split_once('/')?;
            if l.is_empty() || l.len() > 2 || !l.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (l.parse().ok()?, false, r)
        }
    };
    let (index_part, width) = match rest.split_once(".p/") {
        Some((i, w)) => {
            if w.is_empty() || w.len() > 3 || !w.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (i, w.parse::<u64>().ok()?)
        }
        None => (rest, TILE_WIDTH),
    };
    if width == 0 || width > TILE_WIDTH {
        return None;
    }
    let mut index: u64 = 0;
    for group in index_part.split('/') {
        let digits = group.strip_prefix('x').unwrap_or(group);
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        index = index
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    let tile = Tile {
        level,
        index,
        width,
    };
    let canonical = if entries {
        entries_path(index, width)
    } else {
        tile_path(level, index, width)
    };
    (canonical == path).then_some((tile, entries))
}

/// The bytes of one tile or entry bundle (`path` as [`parse_tile_path`]
/// reads it), served live from the registry as of its latest signed
/// checkpoint: what `export` would write for it.
pub fn read_tile(registry: &mut Registry, path: &str) -> Result<Vec<u8>, TilesError> {
    let (tile, entries) =
        parse_tile_path(path).ok_or_else(|| TilesError::NotATilePath(path.to_owned()))?;
    let snapshot = registry.store_mut().read()?;
    let t = snapshot.tables();
    let size = t
        .latest_checkpoint()?
        .ok_or(TilesError::Missing("signed checkpoint"))?
        .size;
    let count = size
        .checked_shr(u32::from(tile.level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0);
    let covered = tile
        .index
        .checked_mul(TILE_WIDTH)
        .and_then(|start| start.checked_add(tile.width))
        .is_some_and(|end| end <= count);
    if !covered {
        return Err(TilesError::Beyond {
            path: path.to_owned(),
            size,
        });
    }
    if entries {
        bundle(&t, tile)
    } else {
        Ok(tile_hashes(&t, tile)?.concat())
    }
}

/// The hashes of one tile: tree nodes of level `8 · tile.level`.
fn tile_hashes(t: &Tables<'_>, tile: Tile) -> Result<Vec<Hash>, TilesError> {
    let level = tile.level * TILE_HEIGHT;
    (0..tile.width)
        .map(|i| Ok(t.node(level, tile.index * TILE_WIDTH + i)?))
        .collect()
}

/// The entry bundle of a level-0 tile; each entry is checked against its
/// stored leaf hash on the way out.
fn bundle(t: &Tables<'_>, tile: Tile) -> Result<Vec<u8>, TilesError> {
    let mut out = Vec::new();
    for i in 0..tile.width {
        let index = tile.index * TILE_WIDTH + i;
        let row = t.entry(index)?.ok_or(StoreError::Corrupt {
            location: format!("entries row {index}"),
            detail: "missing".into(),
        })?;
        let len = u16::try_from(row.bytes.len()).map_err(|_| TilesError::EntryTooLarge {
            index,
            len: row.bytes.len(),
        })?;
        if merkle::leaf_hash(&row.bytes) != t.node(0, index)? {
            return Err(StoreError::Corrupt {
                location: format!("entries row {index}"),
                detail: "the entry does not hash to its stored leaf".into(),
            }
            .into());
        }
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&row.bytes);
    }
    Ok(out)
}

/// Refuses to overwrite a published checkpoint that ours does not extend.
fn check_published(
    out: &Path,
    ours: &checkpoint::Checkpoint,
    key: &PublicKey,
) -> Result<(), TilesError> {
    let path = out.join("checkpoint");
    let Some(note) = read_bounded(&path, MAX_NOTE_BYTES as u64)? else {
        return Ok(());
    };
    let describe = |c: &checkpoint::Checkpoint| {
        format!(
            "{} size {} root {}",
            c.origin,
            c.size,
            merkle::hash_to_hex(&c.root)
        )
    };
    let refuse = |found: String| TilesError::Published {
        path: path.clone(),
        found,
        ours: describe(ours),
    };
    let theirs = checkpoint::verify(&note, key, Some(&ours.origin))
        .map_err(|e| refuse(format!("a checkpoint that does not verify ({e})")))?
        .checkpoint;
    if theirs.size > ours.size || (theirs.size == ours.size && theirs.root != ours.root) {
        return Err(refuse(describe(&theirs)));
    }
    Ok(())
}

/// Reads a file of at most `limit` bytes; `None` when it does not exist.
fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, TilesError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() as u64 > limit {
        return Err(TilesError::Io {
            path: path.to_owned(),
            source: io::Error::other(format!("larger than {limit} bytes")),
        });
    }
    Ok(Some(bytes))
}

/// Replaces `path` with `bytes` (parents created): a temporary file in the
/// same directory, fsync, rename, fsync of the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TilesError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// A log rebuilt from its tiles and checked against its signed checkpoint.
#[derive(Debug, Clone)]
pub struct TiledLog {
    /// The checkpoint, verified under the log key.
    pub checkpoint: checkpoint::VerifiedCheckpoint,
    /// Every entry, in index order.
    pub entries: Vec<Vec<u8>>,
}

/// Reads the tlog-tiles directory `dir` with nothing but the log's public
/// key: verifies the checkpoint's signature (and `origin`, when given),
/// reads every tile and entry bundle the checkpoint's size calls for,
/// checks that each entry hashes to its leaf, that each full tile hashes
/// to its hash in the level above, and that the tiles give the
/// checkpoint's root (RFC 6962 §2.1 through [`merkle::root`]).
pub fn read_tiles(
    dir: &Path,
    key: &PublicKey,
    origin: Option<&str>,
) -> Result<TiledLog, TilesError> {
    let note_path = dir.join("checkpoint");
    let note =
        read_bounded(&note_path, MAX_NOTE_BYTES as u64)?.ok_or_else(|| TilesError::Malformed {
            path: "checkpoint".into(),
            detail: "missing".into(),
        })?;
    let verified = checkpoint::verify(&note, key, origin)?;
    let size = verified.checkpoint.size;
    let tiles = tiles_of(size);
    // levels[L] holds every hash of tile level L, in order.
    let mut levels: Vec<Vec<Hash>> = Vec::new();
    for tile in &tiles {
        let path = tile_path(tile.level, tile.index, tile.width);
        let expected = tile.width as usize * merkle::HASH_LEN;
        let bytes = read_bounded(&dir.join(&path), expected as u64)?
            .ok_or_else(|| malformed(&path, "missing"))?;
        if bytes.len() != expected {
            return Err(malformed(
                &path,
                &format!("{} bytes, expected {expected}", bytes.len()),
            ));
        }
        if levels.len() <= tile.level as usize {
            levels.push(Vec::new());
        }
        levels[tile.level as usize].extend(
            bytes
                .chunks_exact(merkle::HASH_LEN)
                .map(|c| <Hash>::try_from(c).unwrap_or([0; 32])),
        );
    }
    let reader = TileReader { levels: &levels };
    // Each full tile must be the hash its level above holds.
    for tile in tiles.iter().filter(|t| t.width == TILE_WIDTH) {
        let above = u64::from(tile.level + 1);
        let held = levels
            .get(above as usize)
            .and_then(|l| l.get(tile.index as usize))
            .ok_or_else(|| {
                malformed(
                    &tile_path(tile.level, tile.index, tile.width),
                    "no hash for it at the level above",
                )
            })?;
        let path = tile_path(tile.level, tile.index, tile.width);
        // The tile's own subtree: level 8 above its hashes, from them.
        let hash = reader
            .hash_up(tile.level, TILE_HEIGHT, tile.index)
            .map_err(|e| malformed(&path, &e.to_string()))?;
        if hash != *held {
            return Err(TilesError::Mismatch {
                path,
                detail: format!(
                    "does not hash to hash {} of tile level {above}",
                    tile.index % TILE_WIDTH
                ),
            });
        }
    }
    let root = merkle::root(&reader, size).map_err(|e| malformed("tile", &e.to_string()))?;
    if root != verified.checkpoint.root {
        return Err(TilesError::Mismatch {
            path: "checkpoint".into(),
            detail: format!(
                "the tiles give root {}, the checkpoint signs {}",
                merkle::hash_to_hex(&root),
                merkle::hash_to_hex(&verified.checkpoint.root)
            ),
        });
    }
    let leaves = levels.first().map_or(&[][..], Vec::as_slice);
    let mut entries = Vec::with_capacity(leaves.len());
    for tile in tiles.iter().filter(|t| t.level == 0) {
        let path = entries_path(tile.index, tile.width);
        let bytes = read_bounded(&dir.join(&path), MAX_BUNDLE_BYTES)?
            .ok_or_else(|| malformed(&path, "missing"))?;
        let mut rest = bytes.as_slice();
        for i in 0..tile.width {
            let index = tile.index * TILE_WIDTH + i;
            let (len, tail) = match rest {
                [a, b, tail @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), tail),
                _ => return Err(malformed(&path, &format!("ends before entry {index}"))),
            };
            if tail.len() < len {
                return Err(malformed(&path, &format!("entry {index} is truncated")));
            }
            let (entry, tail) = tail.split_at(len);
            if merkle::leaf_hash(entry) != leaves[index as usize] {
                return Err(TilesError::Mismatch {
                    path,
                    detail: format!("entry {index} does not hash to its leaf in tile level 0"),
                });
            }
            entries.push(entry.to_vec());
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(malformed(
                &path,
                &format!("{} bytes after the last entry", rest.len()),
            ));
        }
    }
    Ok(TiledLog {
        checkpoint: verified,
        entries,
    })
}

fn malformed(path: &str, detail: &str) -> TilesError {
    TilesError::Malformed {
        path: path.to_owned(),
        detail: detail.to_owned(),
    }
}

/// Tree nodes from tile hashes: a node of level `8·L + k` is rebuilt from
/// the `2^k` hashes below it in tile level `L`.
struct TileReader<'a> {
    levels: &'a [Vec<Hash>],
}

/// A node the tiles do not cover.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the tiles hold no node at level {level}, index {index}")]
pub struct NotInTiles {
    level: u8,
    index: u64,
}

impl TileReader<'_> {
    /// The tree node `up` levels above the hashes of tile level `base`,
    /// at `index`, hashed from the `2^up` hashes below it.
    fn hash_up(&self, base: u8, up: u8, index: u64) -> Result<Hash, NotInTiles> {
        let missing = NotInTiles {
            level: base * TILE_HEIGHT + up,
            index,
        };
        let hashes = self.levels.get(base as usize).ok_or(missing.clone())?;
        let len = 1usize << up;
        let slice = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(len))
            .and_then(|start| hashes.get(start..start.checked_add(len)?))
            .ok_or(missing)?;
        let mut layer: Vec<Hash> = slice.to_vec();
        while layer.len() > 1 {
            layer = layer
                .chunks_exact(2)
                .map(|p| merkle::node_hash(&p[0], &p[1]))
                .collect();
        }
        Ok(layer[0])
    }
}

impl NodeReader for TileReader<'_> {
    type Error = NotInTiles;
    /// A node of level `8·L + k` from tile level `L`.
    fn node(&self, level: u8, index: u64) -> Result<Hash, NotInTiles> {
        self.hash_up(level / TILE_HEIGHT, level % TILE_HEIGHT, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_parse_only_in_their_canonical_spelling() {
        let t = |level, index, width| Tile {
            level,
            index,
            width,
        };
        assert_eq!(
            parse_tile_path("tile/0/x001/234"),
            Some((t(0, 1234, 256), false))
        );
        assert_eq!(parse_tile_path("tile/2/000.p/7"), Some((t(2, 0, 7), false)));
        assert_eq!(
            parse_tile_path("tile/entries/x001/x234/067.p/255"),
            Some((t(0, 1_234_067, 255), true))
        );
        for bad in [
            "tile/0/../../log.key",
            "tile/0/1234",
            "tile/0/001/234",
            "tile/0/x001",
            "tile/00/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/007",
            "tile/0/000/",
            "tile//000",
            "tile/entries/000.p/",
            "checkpoint",
            "tile/0/x000/001",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn index_paths_follow_the_three_digit_grouping() {
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(67), "067");
        assert_eq!(index_path(1000), "x001/000");
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        assert_eq!(tile_path(1, 5, 17), "tile/1/005.p/17");
        assert_eq!(entries_path(1234, 256), "tile/entries/x001/234");
    }

    #[test]
    fn tiles_of_a_tree_of_70000_match_the_spec_example() {
        let tiles = tiles_of(70_000);
        let level = |l| tiles.iter().filter(move |t: &&Tile| t.level == l);
        assert_eq!(level(0).filter(|t| t.width == 256).count(), 273);
        assert_eq!(level(0).find(|t| t.width < 256).map(|t| t.width), Some(112));
        assert_eq!(level(1).filter(|t| t.width == 256).count(), 1);
        assert_eq!(level(1).find(|t| t.width < 256).map(|t| t.width), Some(17));
        assert_eq!(level(2).map(|t| t.width).collect::<Vec<_>>(), vec![1]);
        assert_eq!(level(3).count(), 0);
        // A tree of 256: one full level-0 tile and a level-1 tile of width 1.
        assert_eq!(
            tiles_of(256),
            vec![
                Tile {
                    level: 0,
                    index: 0,
                    width: 256
                },
                Tile {
                    level: 1,
                    index: 0,
                    width: 1
                }
            ]
        );
        assert!(tiles_of(0).is_empty());
    }

    #[test]
    fn tile_reader_rebuilds_the_roots_of_a_memory_tree() {
        let mut tree = merkle::MemoryTree::new();
        for i in 0..600u32 {
            tree.push_entry(&i.to_be_bytes());
        }
        for size in [1u64, 255, 256, 257, 511, 512, 600] {
            let mut levels: Vec<Vec<Hash>> = Vec::new();
            for tile in tiles_of(size) {
                if levels.len() <= tile.level as usize {
                    levels.push(Vec::new());
                }
                for i in 0..tile.width {
                    let h = tree
                        .node(tile.level * 8, tile.index * 256 + i)
                        .expect("complete node");
                    levels[tile.level as usize].push(h);
                }
            }
            let reader = TileReader { levels: &levels };
            assert_eq!(
                merkle::root(&reader, size).expect("root from tiles"),
                merkle::root(&tree, size).expect("root"),
                "size {size}"
            );
        }
    }
}
