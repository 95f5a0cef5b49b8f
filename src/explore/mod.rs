//! The registry's public face: a device's data-flow map as SVG
//! ([`flow`]), the self-contained HTML report a vendor hands to a lab or
//! a regulator ([`report`]), the registry's explorer pages ([`site`]) and
//! their static export ([`site_export`]). Pages are returned as strings;
//! nothing here prints.

pub mod flow;
pub mod report;
pub mod site;
pub mod site_export;

/// Escapes text for HTML and XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 text.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_covers_markup_quotes_and_controls() {
        assert_eq!(
            super::escape("<script>alert('x\")</script>&\u{1}"),
            "&lt;script&gt;alert(&#39;x&quot;)&lt;/script&gt;&amp;\u{FFFD}"
        );
    }
}
