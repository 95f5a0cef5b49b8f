//! RFC 6901 JSON pointer tokens.

/// Escapes one reference token (RFC 6901 §3: `~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// Reverses [`escape_token`] (RFC 6901 §4: `~1` first, then `~0`).
pub fn unescape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

/// `parent/token` with `token` escaped.
pub(crate) fn child(parent: &str, token: &str) -> String {
    let t = escape_token(token);
    let mut s = String::with_capacity(parent.len() + 1 + t.len());
    s.push_str(parent);
    s.push('/');
    s.push_str(&t);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        assert_eq!(unescape_token("a~1b~0c"), "a/b~c");
        // RFC 6901 §4: "~01" is "~1", not "/".
        assert_eq!(unescape_token("~01"), "~1");
        assert_eq!(child("/x", "a/b"), "/x/a~1b");
    }
}
