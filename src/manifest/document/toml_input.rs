//! TOML → JSON data model, with spans (`toml::de::DeTable`).
//!
//! The mapping is ours, not serde's: `toml` through `serde_json` turns
//! `inf`/`nan` into `null` and datetimes into `{"$__toml_private_datetime":
//! …}`: silent coercions RFC 8785 forbids. Here:
//! - integers must lie within ±(2^53−1);
//! - floats must be finite;
//! - datetimes become one RFC 3339 string form: offset datetimes are
//!   converted to UTC and written `YYYY-MM-DDTHH:MM:SS[.fff]Z`, local
//!   datetimes `YYYY-MM-DDTHH:MM:SS[.fff]`, local dates `YYYY-MM-DD`, local
//!   times `HH:MM:SS[.fff]` (seconds always written, fraction without
//!   trailing zeros).

use super::json_fast::Stop;
use super::pointer::child;
use super::span_index::TreeBuilder;
use super::{Limits, MAX_SAFE_INTEGER, NodeBudget, non_finite, unsafe_float, unsafe_integer};
use crate::diag::{Diagnostic, Label};
use crate::source::{FileId, Span};
use serde_json::{Map, Number, Value};
use toml::de::{DeTable, DeValue};
use toml::value::{Datetime, Offset};

pub(super) fn parse(
    text: &str,
    file: FileId,
    limits: &Limits,
) -> Result<(Value, TreeBuilder), Vec<Diagnostic>> {
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| syntax_diagnostic(e, file, text.len()))
            .collect());
    }
    let mut cx = Convert {
        file,
        spans: TreeBuilder::default(),
        diags: Vec::new(),
        budget: NodeBudget::new(limits.max_nodes),
        max_depth: limits.max_depth,
        max_items: limits.max_array_items,
    };
    let span = root.span();
    cx.spans.insert("", None, 0..text.len());
    let value = cx.table(root.get_ref(), "", 1, span);
    if let Some(d) = cx.budget.diagnostic(file) {
        cx.diags.push(d);
    }
    if cx.diags.is_empty() {
        Ok((value, cx.spans))
    } else {
        Err(cx.diags)
    }
}

fn syntax_diagnostic(e: &toml::de::Error, file: FileId, len: usize) -> Diagnostic {
    let span = e.span().unwrap_or(len..len);
    let message = e.message().trim().to_string();
    let code = if message.contains("duplicate key") {
        "parse/duplicate-key"
    } else {
        "parse/toml-syntax"
    };
    let first = message.lines().next().unwrap_or("invalid TOML").to_string();
    Diagnostic::error(code, format!("TOML: {first}")).with_label(Label::primary(file, span, first))
}

/// Fast path: the same mapping without spans or pointers, consuming the
/// parse tree as it goes. Stops at the first thing the spanned path must
/// report (see `json_fast`), or at the node limit.
pub(super) fn parse_fast(text: &str, limits: &Limits) -> Result<Value, Stop> {
    let root = DeTable::parse(text).map_err(|_| Stop::Spanned)?;
    let mut cx = Fast {
        nodes_left: limits.max_nodes,
        max_items: limits.max_array_items,
        max_depth: limits.max_depth,
    };
    cx.table(root.into_inner(), 1)
}

struct Fast {
    nodes_left: usize,
    max_items: usize,
    max_depth: usize,
}

impl Fast {
    fn take(&mut self) -> Result<(), Stop> {
        if self.nodes_left == 0 {
            return Err(Stop::Nodes);
        }
        self.nodes_left -= 1;
        Ok(())
    }

    fn table(&mut self, t: DeTable<'_>, depth: usize) -> Result<Value, Stop> {
        if depth > self.max_depth {
            return Err(Stop::Spanned);
        }
        let mut out = Map::new();
        for (k, v) in t {
            self.take()?;
            let value = self.value(v.into_inner(), depth)?;
            out.insert(k.into_inner().into_owned(), value);
        }
        Ok(Value::Object(out))
    }

    fn value(&mut self, v: DeValue<'_>, depth: usize) -> Result<Value, Stop> {
        Ok(match v {
            DeValue::String(s) => Value::String(s.into_owned()),
            DeValue::Boolean(b) => Value::Bool(b),
            DeValue::Integer(i) => integer_value(i.as_str(), i.radix()).ok_or(Stop::Spanned)?,
            DeValue::Float(f) => float_value(f.as_str()).ok_or(Stop::Spanned)?,
            DeValue::Datetime(d) => Value::String(datetime_string(&d)),
            DeValue::Array(a) => {
                if depth + 1 > self.max_depth || a.len() > self.max_items {
                    return Err(Stop::Spanned);
                }
                let mut out = Vec::with_capacity(a.len());
                for e in a {
                    self.take()?;
                    out.push(self.value(e.into_inner(), depth + 1)?);
                }
                Value::Array(out)
            }
            DeValue::Table(t) => self.table(t, depth + 1)?,
        })
    }
}

/// A TOML integer as a JSON number, when within ±(2^53−1).
fn integer_value(raw: &str, radix: u32) -> Option<Value> {
    let digits: String = raw.chars().filter(|c| *c != '_').collect();
    match i128::from_str_radix(&digits, radix) {
        Ok(v) if v.abs() <= MAX_SAFE_INTEGER => Some(Value::Number(Number::from(v as i64))),
        _ => None,
    }
}

/// A TOML float as a JSON number, when finite and exactly representable.
fn float_value(raw: &str) -> Option<Value> {
    let digits: String = raw.chars().filter(|c| *c != '_').collect();
    match digits.parse::<f64>() {
        Ok(f) if unsafe_float(f) => None,
        Ok(f) if f.is_finite() => Some(Value::Number(
            Number::from_f64(f).unwrap_or(Number::from(0)),
        )),
        _ => None,
    }
}

struct Convert {
    file: FileId,
    spans: TreeBuilder,
    diags: Vec<Diagnostic>,
    budget: NodeBudget,
    max_depth: usize,
    max_items: usize,
}

impl Convert {
    fn table(&mut self, t: &DeTable<'_>, ptr: &str, depth: usize, span: Span) -> Value {
        if depth > self.max_depth {
            self.too_deep(span, ptr);
            return Value::Null;
        }
        let mut out = Map::new();
        for (k, v) in t.iter() {
            if !self.budget.take() {
                break;
            }
            let p = child(ptr, k.get_ref());
            self.spans.insert(&p, Some(k.span()), v.span());
            let value = self.value(v.get_ref(), &p, depth, v.span());
            out.insert(k.get_ref().to_string(), value);
        }
        Value::Object(out)
    }

    fn value(&mut self, v: &DeValue<'_>, ptr: &str, depth: usize, span: Span) -> Value {
        match v {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Integer(i) => self.integer(i.as_str(), i.radix(), ptr, span),
            DeValue::Float(f) => self.float(f.as_str(), ptr, span),
            DeValue::Datetime(d) => Value::String(datetime_string(d)),
            DeValue::Array(a) => {
                if depth + 1 > self.max_depth {
                    self.too_deep(span, ptr);
                    return Value::Null;
                }
                if a.len() > self.max_items {
                    self.diags
                        .push(super::too_many_items(self.file, span, ptr, self.max_items));
                    return Value::Null;
                }
                let mut out = Vec::with_capacity(a.len());
                for (i, e) in a.iter().enumerate() {
                    if !self.budget.take() {
                        break;
                    }
                    let p = format!("{ptr}/{i}");
                    self.spans.insert(&p, None, e.span());
                    out.push(self.value(e.get_ref(), &p, depth + 1, e.span()));
                }
                Value::Array(out)
            }
            DeValue::Table(t) => self.table(t, ptr, depth + 1, span),
        }
    }

    fn integer(&mut self, raw: &str, radix: u32, ptr: &str, span: Span) -> Value {
        integer_value(raw, radix).unwrap_or_else(|| {
            self.diags.push(unsafe_integer(self.file, span, ptr, raw));
            Value::Null
        })
    }

    fn float(&mut self, raw: &str, ptr: &str, span: Span) -> Value {
        let digits: String = raw.chars().filter(|c| *c != '_').collect();
        match digits.parse::<f64>() {
            Ok(f) if unsafe_float(f) => {
                self.diags.push(unsafe_integer(self.file, span, ptr, raw));
                Value::Null
            }
            Ok(f) if f.is_finite() => Value::Number(Number::from_f64(f).unwrap_or(Number::from(0))),
            _ => {
                self.diags.push(non_finite(self.file, span, ptr, raw));
                Value::Null
            }
        }
    }

    fn too_deep(&mut self, span: Span, ptr: &str) {
        if self.diags.iter().any(|d| d.code == "limit/depth") {
            return;
        }
        self.diags.push(
            Diagnostic::error(
                "limit/depth",
                format!("nesting deeper than {} levels", self.max_depth),
            )
            .with_pointer(ptr)
            .with_label(Label::primary(self.file, span, "too deep")),
        );
    }
}

/// One fixed RFC 3339 form for every TOML datetime (module docs).
fn datetime_string(d: &Datetime) -> String {
    let frac = |ns: Option<u32>| match ns {
        Some(n) if n > 0 => {
            let s = format!(".{n:09}");
            s.trim_end_matches('0').to_string()
        }
        _ => String::new(),
    };
    match (d.date, d.time, d.offset) {
        (Some(date), Some(t), Some(off)) => {
            let minutes = match off {
                Offset::Z => 0i64,
                Offset::Custom { minutes } => i64::from(minutes),
            };
            // Shift to UTC with civil-date arithmetic.
            let day = days_from_civil(i64::from(date.year), date.month.into(), date.day.into());
            let secs = day * 86_400
                + i64::from(t.hour) * 3600
                + i64::from(t.minute) * 60
                + i64::from(t.second.unwrap_or(0))
                - minutes * 60;
            let (dd, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, dday) = civil_from_days(dd);
            format!(
                "{y:04}-{m:02}-{dday:02}T{:02}:{:02}:{:02}{}Z",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60,
                frac(t.nanosecond)
            )
        }
        (Some(date), Some(t), None) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
            date.year,
            date.month,
            date.day,
            t.hour,
            t.minute,
            t.second.unwrap_or(0),
            frac(t.nanosecond)
        ),
        (Some(date), None, _) => format!("{:04}-{:02}-{:02}", date.year, date.month, date.day),
        (None, Some(t), _) => format!(
            "{:02}:{:02}:{:02}{}",
            t.hour,
            t.minute,
            t.second.unwrap_or(0),
            frac(t.nanosecond)
        ),
        (None, None, _) => String::new(),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
