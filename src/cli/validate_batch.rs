//! Many manifests at once: expanding directories and globs into files,
//! validating them on a pool of threads, and handing the results back in
//! input order as soon as each one and all before it are done, so that a
//! batch of any size never sits in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// One input of a batch after expansion: a file to read, or an argument
/// that named nothing to validate (reported, and the batch goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file to validate (read later; it may still be unreadable).
    File(PathBuf),
    /// An argument that yields no file: the path as given and why.
    Unusable(PathBuf, String),
}

/// True for the file names a directory contributes: `*.toml` and `*.json`.
fn is_manifest_name(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("toml" | "json")
    )
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expands the command line's paths: a directory gives its `*.toml` and
/// `*.json` files, recursively, sorted by path; a path that does not exist
/// but holds `*`, `?` or `[` is a glob pattern (for shells that leave it
/// alone), giving its matches sorted; anything else is a file as given.
pub fn expand(args: &[PathBuf]) -> Vec<Input> {
    let mut out = Vec::new();
    for arg in args {
        if arg.is_dir() {
            expand_dir(arg, &mut out);
            continue;
        }
        let text = arg.to_string_lossy();
        if !arg.exists() && has_glob_chars(&text) {
            expand_glob(arg, &text, &mut out);
            continue;
        }
        out.push(Input::File(arg.clone()));
    }
    out
}

fn expand_dir(dir: &Path, out: &mut Vec<Input>) {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() && is_manifest_name(e.path()) => {
                found.push(e.into_path());
            }
            Ok(_) => {}
            Err(e) => {
                let at = e.path().unwrap_or(dir).to_path_buf();
                out.push(Input::Unusable(at, format!("cannot read directory: {e}")));
            }
        }
    }
    if found.is_empty() {
        out.push(Input::Unusable(
            dir.to_path_buf(),
            "directory holds no *.toml or *.json file".to_string(),
        ));
    }
    found.sort();
    out.extend(found.into_iter().map(Input::File));
}

fn expand_glob(arg: &Path, pattern: &str, out: &mut Vec<Input>) {
    let paths = match glob::glob(pattern) {
        Ok(p) => p,
        Err(e) => {
            out.push(Input::Unusable(
                arg.to_path_buf(),
                format!("not a glob pattern: {e}"),
            ));
            return;
        }
    };
    let before = out.len();
    let mut found = Vec::new();
    for p in paths {
        match p {
            Ok(p) if p.is_dir() => expand_dir(&p, out),
            Ok(p) => found.push(p),
            Err(e) => out.push(Input::Unusable(e.path().to_path_buf(), e.to_string())),
        }
    }
    if found.is_empty() && out.len() == before {
        out.push(Input::Unusable(
            arg.to_path_buf(),
            "no file matches this pattern".to_string(),
        ));
    }
    found.sort();
    out.extend(found.into_iter().map(Input::File));
}

/// Number of worker threads: `requested`, or every core.
pub fn jobs(requested: Option<usize>) -> usize {
    requested
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `work(i)` for `i in 0..n` on `jobs` threads and calls `emit(i, result)`
/// on the calling thread in order of `i`, each as soon as it and every
/// earlier one are done. Workers stay at most a small window ahead of the
/// oldest result not yet emitted, so memory stays bounded however large
/// `n` is. `emit` returning `false` stops the batch (e.g. a closed pipe).
pub fn run_ordered<T, W, E>(n: usize, jobs: usize, work: W, mut emit: E) -> std::io::Result<()>
where
    T: Send,
    W: Fn(usize) -> T + Sync,
    E: FnMut(usize, T) -> bool,
{
    let jobs = jobs.max(1);
    let window = jobs * 4;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(std::io::Error::other)?;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let emitted = Mutex::new(0usize);
    let advanced = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    pool.in_place_scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop, emitted, advanced, work) = (&next, &stop, &emitted, &advanced, &work);
            s.spawn(move |_| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    {
                        let mut done = emitted.lock().unwrap_or_else(|e| e.into_inner());
                        while i >= *done + window && !stop.load(Ordering::Relaxed) {
                            done = advanced.wait(done).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                    if stop.load(Ordering::Relaxed) || tx.send((i, work(i))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        let mut want = 0;
        'recv: for (i, t) in &rx {
            pending.insert(i, t);
            while let Some(t) = pending.remove(&want) {
                let go_on = emit(want, t);
                want += 1;
                *emitted.lock().unwrap_or_else(|e| e.into_inner()) = want;
                if !go_on {
                    stop.store(true, Ordering::Relaxed);
                    advanced.notify_all();
                    break 'recv;
                }
                advanced.notify_all();
            }
        }
        // Workers blocked on a full channel cannot exist (it is unbounded);
        // dropping the receiver makes any further send fail.
        drop(rx);
    });
    Ok(())
}

/// Counts of a batch for its closing summary.
#[derive(Debug, Default)]
pub struct Tally {
    pub files: usize,
    pub passed: usize,
    pub failed: usize,
    pub unreadable: usize,
    /// Per profile applied: files evaluated, files failed.
    pub by_profile: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    /// Records one validated file.
    pub fn add(&mut self, passed: bool, profiles: &[String]) {
        self.files += 1;
        if passed {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        for p in profiles {
            let e = self.by_profile.entry(p.clone()).or_default();
            e.0 += 1;
            if !passed {
                e.1 += 1;
            }
        }
    }

    /// 2 when an input could not be read, else 1 when a file failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.unreadable > 0 {
            super::EXIT_OPERATIONAL
        } else if self.failed > 0 {
            super::EXIT_FINDINGS
        } else {
            super::EXIT_OK
        }
    }

    /// Records an input that could not be read.
    pub fn add_unreadable(&mut self) {
        self.files += 1;
        self.unreadable += 1;
    }

    /// The summary: a line of totals, then one line per profile.
    ///
    /// ```text
    /// 3 files: 2 passed, 1 failed
    ///   eu-gdpr: 2 files, 1 failed
    /// ```
    pub fn render(&self) -> String {
        let mut s = format!(
            "{}: {} passed, {} failed",
            files(self.files),
            self.passed,
            self.failed
        );
        if self.unreadable > 0 {
            s.push_str(&format!(", {} unreadable", self.unreadable));
        }
        s.push('\n');
        for (p, (n, failed)) in &self.by_profile {
            s.push_str(&format!("  {p}: {}, {failed} failed\n", files(*n)));
        }
        s
    }
}

fn files(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_input_order_on_many_threads() {
        let mut seen = Vec::new();
        run_ordered(
            500,
            3,
            |i| {
                // Later items finish first often enough to test reordering.
                if i % 7 == 0 {
                    std::thread::yield_now();
                }
                i * 2
            },
            |i, v| {
                seen.push((i, v));
                true
            },
        )
        .unwrap();
        assert_eq!(seen, (0..500).map(|i| (i, i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn emit_returning_false_stops_the_batch() {
        let mut seen = 0;
        run_ordered(
            10_000,
            2,
            |i| i,
            |_, _| {
                seen += 1;
                seen < 5
            },
        )
        .unwrap();
        assert_eq!(seen, 5);
    }

    #[test]
    fn directories_give_their_manifests_sorted_and_recursively() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.toml", "a.json", "notes.txt", "sub/c.toml"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let got = expand(&[dir.path().to_path_buf()]);
        let want: Vec<Input> = ["a.json", "b.toml", "sub/c.toml"]
            .iter()
            .map(|f| Input::File(dir.path().join(f)))
            .collect();
        assert_eq!(got, want);
        let pattern = dir.path().join("*.toml");
        assert_eq!(
            expand(&[pattern]),
            vec![Input::File(dir.path().join("b.toml"))]
        );
        let none = dir.path().join("*.yaml");
        assert!(matches!(&expand(&[none])[..], [Input::Unusable(_, _)]));
    }
}
