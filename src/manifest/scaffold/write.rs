//! The scaffold as TOML text: a comment line above every field, tables
//! after the plain keys of their parent (as TOML requires), a placeholder's
//! `# TODO` hint after its value.

use super::{Entry, ScaffoldSpec};
use crate::manifest::todo::MARKER;
use serde_json::Value;

/// TOML text of the entries, tables after plain keys as TOML requires.
#[derive(Default)]
pub(super) struct Writer {
    /// The text so far.
    pub text: String,
    /// Placeholders written.
    pub placeholders: usize,
}

impl Writer {
    pub fn header(&mut self, spec: &ScaffoldSpec, profiles: &[String]) {
        let line = |w: &mut Self, s: &str| {
            w.text.push_str(s.trim_end());
            w.text.push('\n');
        };
        line(self, &format!("#:schema {}", spec.schema_ref));
        let about = format!(
            "Blueprint scaffold: {} for {}{}.",
            spec.product_class,
            spec.markets.join(", "),
            if spec.sensors.is_empty() {
                String::new()
            } else {
                format!(", with sensors {}", spec.sensors.join(", "))
            }
        );
        for l in wrap(&about, HEADER_WIDTH) {
            line(self, &format!("# {l}"));
        }
        line(self, "#");
        line(
            self,
            "# It holds every field read by the profiles that may apply:",
        );
        for chunk in profiles.chunks(5) {
            line(self, &format!("#   {}", chunk.join(", ")));
        }
        line(self, "#");
        line(
            self,
            &format!(
                "# A value followed by `{MARKER}` is a placeholder: it has the right type, so"
            ),
        );
        line(
            self,
            "# the file passes the schema check, but it is not your answer. Decide each",
        );
        line(
            self,
            &format!(
                "# one, then delete its `{MARKER}` comment. `blueprint validate` reports every"
            ),
        );
        line(
            self,
            "# placeholder left (todo/<pointer>, an error, so the file cannot be signed)",
        );
        line(
            self,
            "# and evaluates the profiles once none is left. An [[array]] entry is a",
        );
        line(
            self,
            "# template: repeat it per element, or delete it when there is none.",
        );
        line(self, "");
    }

    pub fn table(&mut self, path: &[String], entries: &[Entry]) {
        for e in entries {
            if let Entry::Leaf {
                key,
                doc,
                value,
                date,
                todo,
            } = e
            {
                if let Some(d) = doc {
                    self.comment(d);
                }
                let mut l = format!("{key} = {}", render_value(value, *date));
                if let Some(t) = todo {
                    l.push_str("  # ");
                    l.push_str(t.trim_start_matches("# "));
                    self.placeholders += 1;
                }
                self.text.push_str(&l);
                self.text.push('\n');
            }
        }
        for e in entries {
            match e {
                Entry::Leaf { .. } => {}
                Entry::Table { key, doc, entries } => {
                    let mut p = path.to_vec();
                    p.push(key.clone());
                    self.text.push('\n');
                    if let Some(d) = doc {
                        self.comment(d);
                    }
                    self.text.push_str(&format!("[{}]\n", p.join(".")));
                    self.table(&p, entries);
                }
                Entry::Tables { key, doc, elements } => {
                    let mut p = path.to_vec();
                    p.push(key.clone());
                    for el in elements {
                        self.text.push('\n');
                        if let Some(d) = doc {
                            self.comment(d);
                        }
                        self.text.push_str(&format!("[[{}]]\n", p.join(".")));
                        self.table(&p, el);
                    }
                }
            }
        }
    }

    fn comment(&mut self, d: &str) {
        self.text.push_str("# ");
        self.text.push_str(d);
        self.text.push('\n');
    }
}

/// Width of the header comment's lines.
const HEADER_WIDTH: usize = 76;

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for w in text.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + w.len() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A value in TOML syntax (inline), dates as local dates.
fn render_value(v: &Value, date: bool) -> String {
    match v {
        Value::String(s) if date => s.clone(),
        Value::String(s) => toml_string(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| render_value(x, false))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(o) => format!(
            "{{ {} }}",
            o.iter()
                .map(|(k, x)| format!("{} = {}", toml_key(k), render_value(x, false)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "\"\"".into(),
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_string(k)
    }
}
