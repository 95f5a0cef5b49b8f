//! JSON → data model, with spans (`jsonc-parser` AST in strict mode).
//!
//! Strict RFC 8259: no comments, trailing commas, single quotes, hex,
//! `NaN`/`Infinity`. On top of the parser, I-JSON (RFC 7493) rules the
//! canonical form needs: unique member names (compared after unescaping,
//! so `"a"` and `"\u0061"` collide), integers within ±(2^53−1), finite
//! numbers. Lone surrogates are refused by the parser.

use super::pointer::child;
use super::span_index::TreeBuilder;
use super::{Limits, MAX_SAFE_INTEGER, NodeBudget, non_finite, unsafe_float, unsafe_integer};
use crate::diag::{Diagnostic, Label};
use crate::source::{FileId, Span};
use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

pub(super) fn parse(
    text: &str,
    file: FileId,
    limits: &Limits,
) -> Result<(Value, TreeBuilder), Vec<Diagnostic>> {
    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed =
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options).map_err(|e| {
            let r = e.range();
            let kind = e.kind().to_string();
            vec![
                Diagnostic::error("parse/json-syntax", format!("JSON: {kind}"))
                    .with_label(Label::primary(file, r.start..r.end.max(r.start), kind)),
            ]
        })?;
    let Some(root) = parsed.value else {
        return Err(vec![
            Diagnostic::error("parse/json-syntax", "JSON: the file holds no value")
                .with_label(Label::primary(file, 0..0, "empty")),
        ]);
    };
    let mut cx = Convert {
        file,
        spans: TreeBuilder::default(),
        diags: Vec::new(),
        budget: NodeBudget::new(limits.max_nodes),
        max_items: limits.max_array_items,
    };
    let root_span = range(&root);
    cx.spans.insert("", None, root_span);
    let value = cx.value(&root, "");
    if let Some(d) = cx.budget.diagnostic(file) {
        cx.diags.push(d);
    }
    if cx.diags.is_empty() {
        Ok((value, cx.spans))
    } else {
        Err(cx.diags)
    }
}

fn range(v: &ast::Value<'_>) -> Span {
    let r = match v {
        ast::Value::StringLit(s) => s.range,
        ast::Value::NumberLit(n) => n.range,
        ast::Value::BooleanLit(b) => b.range,
        ast::Value::Object(o) => o.range,
        ast::Value::Array(a) => a.range,
        ast::Value::NullKeyword(n) => n.range,
    };
    r.start..r.end
}

struct Convert {
    file: FileId,
    spans: TreeBuilder,
    diags: Vec<Diagnostic>,
    budget: NodeBudget,
    max_items: usize,
}

impl Convert {
    fn value(&mut self, v: &ast::Value<'_>, ptr: &str) -> Value {
        match v {
            ast::Value::StringLit(s) => Value::String(s.value.to_string()),
            ast::Value::BooleanLit(b) => Value::Bool(b.value),
            ast::Value::NullKeyword(_) => Value::Null,
            ast::Value::NumberLit(n) => self.number(n.value, ptr, range(v)),
            ast::Value::Array(a) => {
                if a.elements.len() > self.max_items {
                    self.diags.push(super::too_many_items(
                        self.file,
                        range(v),
                        ptr,
                        self.max_items,
                    ));
                    return Value::Null;
                }
                let mut out = Vec::with_capacity(a.elements.len());
                for (i, e) in a.elements.iter().enumerate() {
                    if !self.budget.take() {
                        break;
                    }
                    let p = format!("{ptr}/{i}");
                    self.spans.insert(&p, None, range(e));
                    out.push(self.value(e, &p));
                }
                Value::Array(out)
            }
            ast::Value::Object(o) => {
                let mut out = Map::new();
                let mut seen: HashMap<String, Span> = HashMap::new();
                for prop in &o.properties {
                    if !self.budget.take() {
                        break;
                    }
                    let (name, key_span) = match &prop.name {
                        ast::ObjectPropName::String(s) => {
                            (s.value.to_string(), s.range.start..s.range.end)
                        }
                        ast::ObjectPropName::Word(w) => {
                            (w.value.to_string(), w.range.start..w.range.end)
                        }
                    };
                    let p = child(ptr, &name);
                    if let Some(first) = seen.get(&name) {
                        self.diags.push(
                            Diagnostic::error(
                                "parse/duplicate-key",
                                format!("duplicate key `{name}`"),
                            )
                            .with_pointer(p.clone())
                            .with_label(Label::primary(self.file, key_span, "defined again here"))
                            .with_label(Label::secondary(
                                self.file,
                                first.clone(),
                                "first defined here",
                            ))
                            .with_note("help: keep one of the two; I-JSON (RFC 7493 §2.3) requires unique names"),
                        );
                        continue;
                    }
                    seen.insert(name.clone(), key_span.clone());
                    self.spans.insert(&p, Some(key_span), range(&prop.value));
                    let value = self.value(&prop.value, &p);
                    out.insert(name, value);
                }
                Value::Object(out)
            }
        }
    }

    fn number(&mut self, raw: &str, ptr: &str, span: Span) -> Value {
        let integral = !raw.contains(['.', 'e', 'E']);
        if integral {
            return match raw.parse::<i128>() {
                Ok(v) if v.abs() <= MAX_SAFE_INTEGER => Value::Number(Number::from(v as i64)),
                _ => {
                    self.diags.push(unsafe_integer(self.file, span, ptr, raw));
                    Value::Null
                }
            };
        }
        match raw.parse::<f64>() {
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
}
