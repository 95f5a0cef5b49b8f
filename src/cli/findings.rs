//! Findings as a person reads them: several diagnostics that say the same
//! thing become one shown finding.
//!
//! Three kinds of repetition are merged, in this order:
//! 1. one shared check failing under several laws at the same place
//!    (`check/EQ-…`, every rule's citation kept);
//! 2. one requirement failing at the same place for several countries,
//!    languages or variants (messages that differ only in their tail);
//! 3. one finding repeated for several elements of the same kind (data
//!    items, endpoints …).
//!
//! Machine formats keep one result per diagnostic and mark the shown
//! finding each belongs to (`shown_as`).

use blueprint::diag::{Diagnostic, Label};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// Most primary labels drawn for one merged finding; the rest are listed
/// in a note.
const MAX_LABELS: usize = 4;

/// Most places named in the message of a finding merged across elements.
const MAX_NAMED: usize = 12;

/// One finding as shown, and the diagnostics (indices into the report's
/// list) it stands for.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The merged diagnostic.
    pub diag: Diagnostic,
    /// Indices of the underlying diagnostics, in order.
    pub members: Vec<usize>,
    /// How many rules it stands for (shared checks), 1 otherwise.
    pub rules: usize,
    /// How many elements it stands for, 1 otherwise.
    pub places: usize,
    /// How many variants of one requirement (countries, languages) it
    /// stands for, 1 otherwise.
    pub cases: usize,
}

/// Groups `diags` for display. `manifest` (when parsed) names elements by
/// their `id`.
pub fn group(diags: &[Diagnostic], manifest: Option<&Value>) -> Vec<Shown> {
    let shown = merge_shared_checks(diags);
    let shown = merge_variants(shown);
    merge_elements(shown, manifest)
}

fn single(i: usize, d: &Diagnostic) -> Shown {
    Shown {
        diag: d.clone(),
        members: vec![i],
        rules: 1,
        places: 1,
        cases: 1,
    }
}

/// Step 1: rules failing the same shared check (`EQ-*`) at the same place.
fn merge_shared_checks(diags: &[Diagnostic]) -> Vec<Shown> {
    let mut out: Vec<Shown> = Vec::with_capacity(diags.len());
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (i, d) in diags.iter().enumerate() {
        let key = match (&d.rule, &d.pointer) {
            (Some(rr), Some(ptr)) => rr
                .group
                .as_ref()
                .map(|g| (g.clone(), ptr.clone(), without_rule(&d.message, &rr.rule))),
            _ => None,
        };
        match key.as_ref().and_then(|k| index.get(k).copied()) {
            Some(at) => out[at].members.push(i),
            None => {
                if let Some(k) = key {
                    index.insert(k, out.len());
                }
                out.push(single(i, d));
            }
        }
    }
    for s in &mut out {
        if s.members.len() < 2 {
            continue;
        }
        let group: Vec<&Diagnostic> = s.members.iter().map(|&i| &diags[i]).collect();
        let first = group[0];
        let Some(rr) = first.rule.as_ref() else {
            continue;
        };
        let rules: Vec<&str> = group
            .iter()
            .filter_map(|d| d.rule.as_ref().map(|r| r.rule.as_str()))
            .collect();
        let merged = &mut s.diag;
        merged.code = format!("check/{}", rr.group.clone().unwrap_or_default());
        merged.severity = group
            .iter()
            .map(|d| d.severity)
            .max()
            .unwrap_or(first.severity);
        let base = without_rule(&first.message, &rr.rule);
        merged.message = if base.len() < first.message.len() {
            format!(
                "{base} ({} rules require it: {})",
                rules.len(),
                rules.join(", ")
            )
        } else {
            format!("{base} ({} rules: {})", rules.len(), rules.join(", "))
        };
        merged.labels = first
            .labels
            .iter()
            .filter(|l| l.primary)
            .map(|l| Label {
                message: String::new(),
                ..l.clone()
            })
            .collect();
        merged.labels.extend(
            group
                .iter()
                .flat_map(|d| d.labels.iter().filter(|l| !l.primary).cloned()),
        );
        // Notes that are not the rule's own help and citation (the absent
        // field's snippet, alternatives) are kept once.
        let hint = format!("help: {}", rr.hint);
        merged.notes = first
            .notes
            .iter()
            .filter(|n| !n.starts_with("citation: ") && **n != hint)
            .cloned()
            .collect();
        merged.notes.push(hint);
        for d in &group {
            if let Some(r) = &d.rule {
                merged.notes.push(format!(
                    "citation: {} ({}): {}",
                    r.rule, r.profile, r.citation
                ));
            }
        }
        s.rules = rules.len();
    }
    out
}

/// An absent-field message without its "; RULE requires it" tail, so that
/// the rules of one shared check compare equal.
fn without_rule(message: &str, rule: &str) -> String {
    for tail in [
        format!("; {rule} requires it"),
        format!("; {rule} requires them"),
    ] {
        if let Some(base) = message.strip_suffix(&tail) {
            return base.to_string();
        }
    }
    message.to_string()
}

/// The longest common prefix of `msgs` that ends at a word boundary.
fn common_prefix<'a>(msgs: &[&'a str]) -> &'a str {
    let first = msgs[0];
    let mut end = first.len();
    for m in &msgs[1..] {
        end = end.min(
            first
                .char_indices()
                .zip(m.chars())
                .find(|((_, a), b)| a != b)
                .map(|((i, _), _)| i)
                .unwrap_or(first.len().min(m.len())),
        );
    }
    let cut = first[..end].rfind(' ').map(|i| i + 1).unwrap_or(0);
    &first[..cut]
}

/// Step 2: the same rule at the same place with messages that differ only
/// in their tail (`… language of AT (de)`, `… language of BE (nl, fr, de)`).
fn merge_variants(shown: Vec<Shown>) -> Vec<Shown> {
    let mut buckets: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, s) in shown.iter().enumerate() {
        if let Some(p) = &s.diag.pointer {
            buckets
                .entry((s.diag.code.clone(), p.clone()))
                .or_default()
                .push(i);
        }
    }
    let mut absorbed = vec![false; shown.len()];
    let mut replaced: BTreeMap<usize, Shown> = BTreeMap::new();
    for bucket in buckets.values() {
        // Clusters of messages that share an opening of at least four words.
        let mut clusters: Vec<Vec<usize>> = Vec::new();
        for &i in bucket {
            let m = shown[i].diag.message.as_str();
            let fits = clusters.iter_mut().find(|c| {
                let first = shown[c[0]].diag.message.as_str();
                common_prefix(&[first, m]).split_whitespace().count() >= 4
            });
            match fits {
                Some(c) => c.push(i),
                None => clusters.push(vec![i]),
            }
        }
        for idxs in clusters.iter().filter(|c| c.len() > 1) {
            let msgs: Vec<&str> = idxs
                .iter()
                .map(|&i| shown[i].diag.message.as_str())
                .collect();
            let prefix = common_prefix(&msgs);
            if prefix.split_whitespace().count() < 4 {
                continue;
            }
            let tails: Vec<&str> = msgs.iter().map(|m| &m[prefix.len()..]).collect();
            let mut merged = shown[idxs[0]].clone();
            for l in merged.diag.labels.iter_mut().filter(|l| l.primary) {
                l.message.clear();
            }
            merged.diag.message = format!("{prefix}{} ({} cases)", tails.join("; "), tails.len());
            merged.diag.severity = idxs
                .iter()
                .map(|&i| shown[i].diag.severity)
                .max()
                .unwrap_or(merged.diag.severity);
            for &i in &idxs[1..] {
                merged.members.extend(&shown[i].members);
                absorbed[i] = true;
            }
            merged.cases = tails.len();
            replaced.insert(idxs[0], merged);
        }
    }
    shown
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !absorbed[*i])
        .map(|(i, s)| replaced.remove(&i).unwrap_or(s))
        .collect()
}

/// A short name for the element a pointer is in: its `id` when it has one
/// (`billing_register`), else the dotted path.
pub fn element_name(pointer: &str, manifest: Option<&Value>) -> String {
    if let Some(m) = manifest {
        let segs: Vec<&str> = pointer.split('/').collect();
        for end in (1..=segs.len()).rev() {
            let prefix = segs[..end].join("/");
            let is_index = segs[end - 1].parse::<usize>().is_ok();
            if is_index
                && let Some(id) = m
                    .pointer(&prefix)
                    .and_then(|v| v.get("id"))
                    .and_then(Value::as_str)
            {
                return id.to_string();
            }
        }
    }
    dotted(pointer)
}

/// `/data_items/0/lifecycle` → `data_items[0].lifecycle`.
pub fn dotted(pointer: &str) -> String {
    let mut s = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&seg);
        }
    }
    if s.is_empty() {
        "(top level)".into()
    } else {
        s
    }
}

/// Step 3: the same finding (code and message) at several elements.
fn merge_elements(shown: Vec<Shown>, manifest: Option<&Value>) -> Vec<Shown> {
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out: Vec<Shown> = Vec::with_capacity(shown.len());
    let mut pointers: Vec<Vec<String>> = Vec::new();
    for s in shown {
        let key = (s.diag.code.clone(), s.diag.message.clone());
        let ptr = s.diag.pointer.clone().unwrap_or_default();
        match index.get(&key).copied() {
            Some(at) if s.diag.pointer.is_some() => {
                let target = &mut out[at];
                target.members.extend(&s.members);
                target.diag.severity = target.diag.severity.max(s.diag.severity);
                let lbls: Vec<Label> = s
                    .diag
                    .labels
                    .iter()
                    .filter(|l| l.primary)
                    .cloned()
                    .collect();
                target.diag.labels.extend(lbls);
                pointers[at].push(ptr);
            }
            _ => {
                if s.diag.pointer.is_some() {
                    index.insert(key, out.len());
                }
                out.push(s);
                pointers.push(vec![ptr]);
            }
        }
    }
    for (s, ptrs) in out.iter_mut().zip(&pointers) {
        if ptrs.len() < 2 {
            continue;
        }
        // At most MAX_NAMED names: the message is repeated for every member
        // in JSON output, so listing all n places would cost n² bytes.
        let names: Vec<String> = ptrs
            .iter()
            .take(MAX_NAMED)
            .map(|p| element_name(p, manifest))
            .collect();
        let more = match ptrs.len().saturating_sub(MAX_NAMED) {
            0 => String::new(),
            rest => format!(", and {rest} more"),
        };
        s.diag.message = format!(
            "{} ({} places: {}{more})",
            s.diag.message,
            ptrs.len(),
            names.join(", ")
        );
        s.places = ptrs.len();
        // Primaries first, at most MAX_LABELS of them; secondary labels once.
        // Sets, not scans: a finding at 100,000 places stays linear.
        let mut primaries: Vec<Label> = Vec::new();
        let mut secondaries: Vec<Label> = Vec::new();
        let mut seen_primary = HashSet::new();
        let mut seen_secondary = HashSet::new();
        for l in s.diag.labels.drain(..) {
            if l.primary {
                if seen_primary.insert((l.file, l.span.start, l.span.end)) {
                    primaries.push(Label {
                        message: String::new(),
                        ..l
                    });
                }
            } else if seen_secondary.insert((l.file, l.span.start, l.span.end, l.message.clone())) {
                secondaries.push(l);
            }
        }
        if primaries.len() > MAX_LABELS {
            let rest = primaries.len() - MAX_LABELS;
            primaries.truncate(MAX_LABELS);
            s.diag.notes.insert(
                0,
                format!("note: {rest} more places not drawn; see the list above"),
            );
        }
        primaries.extend(secondaries);
        s.diag.labels = primaries;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use blueprint::diag::Severity;

    fn d(code: &str, msg: &str, ptr: &str) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, msg).with_pointer(ptr)
    }

    #[test]
    fn variants_of_one_requirement_merge() {
        let ds = vec![
            d(
                "profile/x",
                "the notice is in no official language of AT (de)",
                "/l",
            ),
            d(
                "profile/x",
                "the notice is in no official language of BE (nl, fr)",
                "/l",
            ),
            d("profile/x", "something else entirely", "/l"),
        ];
        let g = group(&ds, None);
        assert_eq!(g.len(), 2);
        assert_eq!(
            g[0].diag.message,
            "the notice is in no official language of AT (de); BE (nl, fr) (2 cases)"
        );
        assert_eq!(g[0].members, vec![0, 1]);
    }

    #[test]
    fn repeated_findings_at_elements_merge_with_ids() {
        let m = serde_json::json!({"items": [{"id": "a"}, {"id": "b"}]});
        let ds = vec![
            d("profile/y", "bad", "/items/0"),
            d("profile/y", "bad", "/items/1/x"),
        ];
        let g = group(&ds, Some(&m));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].diag.message, "bad (2 places: a, b)");
        assert_eq!(g[0].places, 2);
    }

    #[test]
    fn dotted_paths_read_like_toml() {
        assert_eq!(dotted("/data_items/0/lifecycle"), "data_items[0].lifecycle");
        assert_eq!(dotted(""), "(top level)");
    }
}
