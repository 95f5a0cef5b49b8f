//! The text to paste for a finding about something absent, in the
//! manifest's own syntax (TOML tables or JSON members).

use blueprint::diag::Fix;
use serde_json::{Map, Value};

/// `help: add under [security]:` plus the lines to paste, or `None` when
/// the fix names fields without one value to give them.
pub fn help(f: &Fix, json: bool) -> Option<String> {
    let add = f.add.as_object()?;
    if has_null(&f.add) {
        return None;
    }
    let body = if json {
        json_members(f, add)
    } else {
        toml_lines(f, add)
    };
    Some(body)
}

fn json_members(f: &Fix, add: &Map<String, Value>) -> String {
    let place = if f.at.is_empty() {
        "the top-level object".to_string()
    } else {
        format!("the object at `{}`", f.at)
    };
    let mut s = format!("help: add to {place}:\n");
    for (k, v) in add {
        let v = serde_json::to_string(v).unwrap_or_default();
        s.push_str(&format!("\n    {}: {v}", Value::String(k.clone())));
    }
    s
}

fn toml_lines(f: &Fix, add: &Map<String, Value>) -> String {
    let at: Vec<String> =
        f.at.split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
    if at.iter().any(|s| s.parse::<usize>().is_ok()) {
        // Inside an array of tables: dotted keys under that element's header.
        let mut s = format!(
            "help: add to the `[[{}]]` table marked above:\n",
            at.iter()
                .take_while(|s| s.parse::<usize>().is_err())
                .cloned()
                .collect::<Vec<_>>()
                .join(".")
        );
        for line in dotted_lines("", &Value::Object(add.clone())) {
            s.push_str(&format!("\n    {line}"));
        }
        return s;
    }
    // Descend single-key tables into the header: `[security.credentials]`.
    let mut header = at.clone();
    let mut rest = add.clone();
    loop {
        let next = match rest.iter().next() {
            Some((k, Value::Object(o))) if rest.len() == 1 && !o.is_empty() => {
                (k.clone(), o.clone())
            }
            _ => break,
        };
        header.push(next.0);
        rest = next.1;
    }
    let mut s = if header.is_empty() {
        "help: add at the top level, above the first `[table]` header:\n".to_string()
    } else if header == at {
        format!("help: add under `[{}]`:\n", key_path(&header))
    } else {
        format!("help: add this table:\n\n    [{}]", key_path(&header))
    };
    for line in dotted_lines("", &Value::Object(rest)) {
        s.push_str(&format!("\n    {line}"));
    }
    s
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.values().any(has_null),
        Value::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

/// `a.b = v` lines for every leaf of `v`.
fn dotted_lines(prefix: &str, v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) if !o.is_empty() => o
            .iter()
            .flat_map(|(k, x)| {
                let key = if prefix.is_empty() {
                    toml_key(k)
                } else {
                    format!("{prefix}.{}", toml_key(k))
                };
                dotted_lines(&key, x)
            })
            .collect(),
        _ => vec![format!("{prefix} = {}", toml_value(v))],
    }
}

fn key_path(segs: &[String]) -> String {
    segs.iter()
        .map(|s| toml_key(s))
        .collect::<Vec<_>>()
        .join(".")
}

fn toml_key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

/// A TOML literal (JSON strings, numbers and booleans are valid TOML).
fn toml_value(v: &Value) -> String {
    match v {
        Value::Null => "<value>".into(),
        // A placeholder to replace (`<value>`, `<true|false>`), left bare.
        Value::String(p) if p != "<text>" && p.starts_with('<') && p.ends_with('>') => p.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{ {} }}",
            o.iter()
                .map(|(k, x)| format!("{} = {}", toml_key(k), toml_value(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_absent_table_gets_its_header() {
        let f = Fix {
            at: "/security".into(),
            add: json!({"credentials": {"unique_per_device": true}}),
        };
        assert_eq!(
            help(&f, false).unwrap(),
            "help: add this table:\n\n    [security.credentials]\n    unique_per_device = true"
        );
    }

    #[test]
    fn a_key_in_an_array_element_uses_dotted_keys() {
        let f = Fix {
            at: "/data_items/0".into(),
            add: json!({"lifecycle": {"sell": false}}),
        };
        assert_eq!(
            help(&f, false).unwrap(),
            "help: add to the `[[data_items]]` table marked above:\n\n    lifecycle.sell = false"
        );
    }
}
