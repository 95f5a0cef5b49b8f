use super::*;
use serde_json::json;

fn load_str(name: &str, text: &str) -> Result<(SourceMap, Document), (SourceMap, Vec<Diagnostic>)> {
    let mut map = SourceMap::new();
    match load(&mut map, name, text.as_bytes(), &Limits::default()) {
        Ok(d) => Ok((map, d)),
        Err(e) => Err((map, e)),
    }
}

fn codes(r: Result<(SourceMap, Document), (SourceMap, Vec<Diagnostic>)>) -> Vec<String> {
    match r {
        Ok(_) => vec![],
        Err((_, d)) => d.into_iter().map(|d| d.code).collect(),
    }
}

#[test]
fn toml_and_json_give_the_same_value() {
    let (_, t) = load_str(
        "a.toml",
        "# c\nformat = \"blueprint/v1\"\n[blueprint]\nid = \"x\"\nversion = 2\n[[items]]\nn = 1.5\nd = 2026-01-01\n",
    )
    .unwrap();
    let (_, j) = load_str(
        "a.json",
        r#"{"items":[{"d":"2026-01-01","n":1.5}],"blueprint":{"version":2,"id":"x"},"format":"blueprint/v1"}"#,
    )
    .unwrap();
    assert_eq!(t.value, j.value);
    assert_eq!(t.value["items"][0]["d"], json!("2026-01-01"));
}

#[test]
fn spans_point_at_keys_and_values() {
    let text = "[blueprint]\nid = \"cam\"\n";
    let (map, d) = load_str("a.toml", text).unwrap();
    let n = d.spans.get("/blueprint/id").unwrap();
    assert_eq!(&text[n.key.clone().unwrap()], "id");
    assert_eq!(&text[n.value.clone()], "\"cam\"");
    assert_eq!(map.get(d.file).line_col(n.value.start), (2, 6));
    // A missing member locates to its nearest ancestor.
    assert_eq!(d.locate("/blueprint/nope/deeper"), d.locate("/blueprint"));

    let text = "{\n  \"a\": [1, {\"b\": true}]\n}";
    let (_, d) = load_str("a.json", text).unwrap();
    assert_eq!(&text[d.locate("/a/1/b")], "true");
    assert_eq!(&text[d.spans.locate_key("/a")], "\"a\"");
}

#[test]
fn offset_datetimes_map_to_utc() {
    let (_, d) = load_str(
        "a.toml",
        "a = 2026-01-01T01:30:00+02:00\nb = 07:32\nc = 1979-05-27T00:32:00.500Z\n",
    )
    .unwrap();
    assert_eq!(d.value["a"], json!("2025-12-31T23:30:00Z"));
    assert_eq!(d.value["b"], json!("07:32:00"));
    assert_eq!(d.value["c"], json!("1979-05-27T00:32:00.5Z"));
}

#[test]
fn refuses_what_json_cannot_carry_exactly() {
    assert_eq!(
        codes(load_str("a.toml", "a = nan\nb = inf\n")),
        ["canon/non-finite", "canon/non-finite"]
    );
    assert_eq!(
        codes(load_str("a.json", r#"{"a": 1e400}"#)),
        ["canon/non-finite"]
    );
    assert_eq!(
        codes(load_str("a.json", r#"{"a": 9007199254740993}"#)),
        ["canon/unsafe-integer"]
    );
    assert_eq!(
        codes(load_str("a.toml", "a = 9223372036854775807\n")),
        ["canon/unsafe-integer"]
    );
    assert!(
        load_str(
            "a.json",
            r#"{"a": 9007199254740991, "b": -9007199254740991}"#
        )
        .is_ok()
    );
}

#[test]
fn refuses_duplicate_keys() {
    assert_eq!(
        codes(load_str("a.json", r#"{"a":1,"\u0061":2}"#)),
        ["parse/duplicate-key"]
    );
    assert_eq!(
        codes(load_str("a.toml", "a = 1\na = 2\n")),
        ["parse/duplicate-key"]
    );
}

#[test]
fn reports_every_toml_syntax_error() {
    let c = codes(load_str("a.toml", "a = \nb = [1,\nc = \"ok\"\nd = }\n"));
    assert!(c.len() >= 2, "{c:?}");
}

#[test]
fn refuses_hostile_input() {
    let mut map = SourceMap::new();
    let small = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let e = load(&mut map, "a.json", b"{\"a\": \"0123456789\"}", &small).unwrap_err();
    assert_eq!(e[0].code, "limit/size");
    assert_eq!(
        codes(load_str("a.json", &"[".repeat(10_000))),
        ["limit/depth"]
    );
    let dotted = format!("{} = 1\n", vec!["a"; 200].join("."));
    // The TOML parser's own recursion limit or ours: refused either way.
    let c = codes(load_str("a.toml", &dotted));
    assert!(c == ["limit/depth"] || c == ["parse/toml-syntax"], "{c:?}");
    let dotted = format!("{} = 1\n", vec!["a"; 70].join("."));
    assert_eq!(codes(load_str("a.toml", &dotted)), ["limit/depth"]);
    let e = load(&mut map, "a.toml", b"a = \"\xff\"", &Limits::default()).unwrap_err();
    assert_eq!(e[0].code, "parse/invalid-utf8");
    assert_eq!(codes(load_str("a.json", "\u{feff}{}")), ["parse/bom"]);
    assert_eq!(
        codes(load_str("a.json", r#"{"a": "\ud800"}"#)),
        ["parse/json-syntax"]
    );
    assert_eq!(
        codes(load_str("a.json", r#"{"a": 1,}"#)),
        ["parse/json-syntax"]
    );
    let few = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    let e = load(&mut map, "a.json", b"[1,2,3,4,5]", &few).unwrap_err();
    assert_eq!(e[0].code, "limit/nodes");
}

/// The fast path and the spanned path give the same value, and the lazy
/// index the spanned path's spans.
#[test]
fn fast_path_matches_the_spanned_path() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut texts: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    for json in [
        r#"{"a": [1, -1, 1.5, 1e3, 1E-7, 0.1, 9007199254740991, -9007199254740991]}"#,
        r#"{"b": [true, false, null, "x\u00e9\ud83d\ude00", {}, [], {"c~/d": {"": 1}}]}"#,
        r#"{"f": [2.2250738585072014e-308, 1.5e-300, 0.30000000000000004, 123456.789e3, 5e-324]}"#,
        "\r\n\t { \"k\\u0061\" :\n[ 1 ,\t{ } , [ [ ] ] ] , \"q\\\"\\\\\" : \"\\\\\" }  \n",
    ] {
        texts.push(("x.json".into(), json.into()));
    }
    // Each example again as pretty-printed JSON.
    let examples: Vec<(String, String)> = texts
        .iter()
        .filter(|(n, _)| n.ends_with(".toml"))
        .map(|(n, t)| {
            let v = toml_input::parse_fast(t, &Limits::default()).unwrap();
            (
                format!("{n}.json"),
                serde_json::to_string_pretty(&v).unwrap(),
            )
        })
        .collect();
    texts.extend(examples);
    assert!(texts.len() > 5);
    for (name, text) in &texts {
        let format = Format::detect(name, text.as_bytes());
        let limits = Limits::default();
        let fast = match format {
            Format::Toml => toml_input::parse_fast(text, &limits),
            Format::Json => json_fast::parse(text, &limits),
        }
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let (slow, tree) = spanned(text, FileId(0), format, &limits).unwrap();
        assert_eq!(fast, slow, "{name}");
        let index = SpanIndex::lazy(text.as_str().into(), FileId(0), format, limits);
        let tree = tree.finish();
        assert!(index.len() > 1 && index.len() == tree.nodes_len(), "{name}");
        if format == Format::Json {
            // The one-pass scanner records exactly the spanned path's tree.
            assert_eq!(json_spans::tree(text).as_ref(), Some(&tree), "{name}");
        }
        let mut ptr = String::new();
        check_spans(&slow, &mut ptr, &index, text, name);
    }
}

/// Every node is found, and a member's key span holds its name.
fn check_spans(v: &serde_json::Value, ptr: &mut String, index: &SpanIndex, text: &str, name: &str) {
    let span = index
        .get(ptr)
        .unwrap_or_else(|| panic!("{name}: no span for {ptr:?}"));
    if let Some(k) = &span.key {
        let last = unescape_token(ptr.rsplit('/').next().unwrap()).into_owned();
        assert!(
            text[k.clone()].contains(last.as_str()) || text[k.clone()].contains('\\'),
            "{name}: {ptr}"
        );
    }
    let len = ptr.len();
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                ptr.push('/');
                ptr.push_str(&escape_token(k));
                check_spans(x, ptr, index, text, name);
                ptr.truncate(len);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                ptr.push_str(&format!("/{i}"));
                check_spans(x, ptr, index, text, name);
                ptr.truncate(len);
            }
            assert!(index.get(&format!("{ptr}/{}", a.len())).is_none());
            assert!(a.is_empty() || index.get(&format!("{ptr}/00")).is_none());
        }
        _ => {}
    }
}

#[test]
fn what_the_fast_path_leaves_to_the_spanned_path_loads_the_same() {
    // `-0` is the integer 0 and `-0.0` a float; a literal above 2^64 is an
    // unsafe integer, 1e300 a float.
    let (_, d) = load_str("a.json", r#"{"a": -0, "b": -0.0, "c": 1e300}"#).unwrap();
    assert_eq!(d.value["a"], json!(0));
    assert!(d.value["b"].is_f64());
    assert!(d.value["c"].is_f64());
    assert_eq!(
        codes(load_str("a.json", r#"{"a": 123456789012345678901234}"#)),
        ["canon/unsafe-integer"]
    );
    assert_eq!(
        codes(load_str("a.json", r#"{"a": 1, "a": 2}"#)),
        ["parse/duplicate-key"]
    );
}

#[test]
fn refuses_long_arrays_and_many_nodes_before_parsing() {
    let items = Limits {
        max_array_items: 3,
        ..Limits::default()
    };
    let mut map = SourceMap::new();
    for (name, text) in [("a.json", "[[1,2,3,4]]"), ("a.toml", "a = [1,2,3,4]")] {
        let e = load(&mut map, name, text.as_bytes(), &items).unwrap_err();
        assert_eq!(e[0].code, "limit/array-items", "{name}");
        assert_eq!(e[0].message, "array with more than 3 elements");
    }
    // An array of tables is counted after parsing, and named.
    let e = load(
        &mut map,
        "a.toml",
        "[[x]]\n[[x]]\n[[x]]\n[[x]]\n".as_bytes(),
        &items,
    )
    .unwrap_err();
    assert_eq!(e[0].code, "limit/array-items");
    assert_eq!(e[0].pointer.as_deref(), Some("/x"));
    let few = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    let e = load(&mut map, "a.toml", b"a = {b = {c = 1}}\nd = 1", &few).unwrap_err();
    assert_eq!(e[0].code, "limit/nodes");
}

#[test]
fn the_span_scanner_gives_up_on_what_is_not_json() {
    for text in [
        "{\"a\": }",
        "[1,]",
        "{\"a\" 1}",
        "\"open",
        "[1] 2",
        "tru",
        "{\"a\":1,}",
    ] {
        assert_eq!(json_spans::tree(text), None, "{text}");
    }
}
