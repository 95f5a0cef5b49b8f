//! Recognizing application protocols in the first bytes of a payload, and
//! pulling out the names that identify the remote party: DNS answers
//! (RFC 1035 §4), the TLS ClientHello `server_name` (RFC 8446 §4.1.2,
//! RFC 6066 §3) and the HTTP/1.x `Host` header (RFC 9112 §3.2).
//!
//! Every parser works on a borrowed slice with explicit bounds checks and
//! allocates only for the names it returns.

/// Reads big-endian integers and slices without ever indexing out of bounds.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
}

/// A TLS record header (RFC 8446 §5.1): content type 20–24, legacy version 3.x.
pub fn is_tls_record(p: &[u8]) -> bool {
    p.len() >= 5 && (20..=24).contains(&p[0]) && p[1] == 3 && p[2] <= 4
}

/// A DTLS record header (RFC 9147 §4): content type 20–25, version 0xfeff/0xfefd/0xfefc.
pub fn is_dtls_record(p: &[u8]) -> bool {
    p.len() >= 13 && (20..=25).contains(&p[0]) && p[1] == 0xfe && matches!(p[2], 0xff | 0xfd | 0xfc)
}

/// A QUIC long-header packet (RFC 9000 §17.2) of version 1, 2 or a draft.
pub fn is_quic_long_header(p: &[u8]) -> bool {
    if p.len() < 7 || p[0] & 0xc0 != 0xc0 {
        return false;
    }
    let v = u32::from_be_bytes([p[1], p[2], p[3], p[4]]);
    v == 1 || v == 0x6b33_43cf || (v >> 8) == 0x00ff_0000
}

/// The SNI host name of a TLS ClientHello that starts in `p`, if `p` holds
/// the extension. Returns `None` for anything else.
pub fn tls_client_hello_sni(p: &[u8]) -> Option<String> {
    let mut c = Cursor::new(p);
    if c.u8()? != 22 || c.u8()? != 3 {
        return None;
    }
    c.take(1)?;
    let _record_len = c.u16()?;
    if c.u8()? != 1 {
        return None; // not a ClientHello
    }
    let _hs_len = c.u24()?;
    c.take(2 + 32)?; // legacy_version, random
    let sid = usize::from(c.u8()?);
    c.take(sid)?;
    let suites = usize::from(c.u16()?);
    c.take(suites)?;
    let comp = usize::from(c.u8()?);
    c.take(comp)?;
    let ext_len = usize::from(c.u16()?);
    let exts = c.take(ext_len).or_else(|| c.buf.get(c.pos..))?;
    let mut e = Cursor::new(exts);
    while let (Some(ty), Some(len)) = (e.u16(), e.u16()) {
        let body = e.take(usize::from(len))?;
        if ty != 0 {
            continue;
        }
        // RFC 6066 §3: ServerNameList { NameType(0 = host_name), HostName<1..2^16-1> }
        let mut s = Cursor::new(body);
        let list = usize::from(s.u16()?);
        let mut l = Cursor::new(s.take(list)?);
        while let Some(kind) = l.u8() {
            let n = usize::from(l.u16()?);
            let name = l.take(n)?;
            if kind == 0 {
                return host_name(name);
            }
        }
        return None;
    }
    None
}

/// A host name as ASCII lower case without a trailing dot, if it looks like one.
fn host_name(raw: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(raw).ok()?;
    let s = s.trim_end_matches('.');
    if s.is_empty()
        || s.len() > 253
        || !s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':' | b'[' | b']')
        })
    {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

const HTTP_METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// `Some(host)` when `p` starts an HTTP/1.x request; the host is `None` if
/// no `Host` header is in this segment.
pub fn http_request(p: &[u8]) -> Option<Option<String>> {
    if !HTTP_METHODS.iter().any(|m| p.starts_with(m)) {
        return None;
    }
    let head = &p[..p.len().min(8192)];
    let host = head
        .split(|&b| b == b'\n')
        .skip(1)
        .take_while(|l| !l.is_empty() && *l != b"\r")
        .find_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|&b| b == b':')?;
            if !line[..colon].eq_ignore_ascii_case(b"host") {
                return None;
            }
            let v = line[colon + 1..].trim_ascii();
            // Strip a port, keeping bracketed IPv6 literals intact.
            let v = match v.iter().rposition(|&b| b == b':') {
                Some(i) if !v.ends_with(b"]") && v[i + 1..].iter().all(u8::is_ascii_digit) => {
                    &v[..i]
                }
                _ => v,
            };
            host_name(v)
        });
    Some(host)
}

/// An HTTP/1.x response line.
pub fn is_http_response(p: &[u8]) -> bool {
    p.starts_with(b"HTTP/1.")
}

/// An MQTT CONNECT packet (MQTT 3.1.1 §3.1, 5.0 §3.1) in the clear.
pub fn is_mqtt_connect(p: &[u8]) -> bool {
    if p.first() != Some(&0x10) {
        return false;
    }
    // Remaining length: 1–4 bytes, high bit continues (MQTT §2.2.3).
    let mut i = 1;
    while i < 5 && p.get(i).is_some_and(|b| b & 0x80 != 0) {
        i += 1;
    }
    let rest = p.get(i + 1..).unwrap_or(&[]);
    rest.starts_with(b"\x00\x04MQTT") || rest.starts_with(b"\x00\x06MQIsdp")
}

/// A parsed DNS message: only what the observation needs.
#[derive(Debug, Default, PartialEq)]
pub struct DnsMessage {
    pub response: bool,
    pub questions: Vec<(String, u16)>,
    pub answers: Vec<DnsAnswer>,
}

/// One resource record of the answer section.
#[derive(Debug, PartialEq)]
pub struct DnsAnswer {
    pub owner: String,
    pub data: DnsData,
}

/// Answer data the observation keeps.
#[derive(Debug, PartialEq)]
pub enum DnsData {
    Addr(std::net::IpAddr),
    Cname(String),
}

/// DNS record type names for the observation.
pub fn qtype_name(t: u16) -> String {
    match t {
        1 => "A".into(),
        5 => "CNAME".into(),
        28 => "AAAA".into(),
        12 => "PTR".into(),
        16 => "TXT".into(),
        33 => "SRV".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

const MAX_QUESTIONS: usize = 16;
const MAX_ANSWERS: usize = 64;

/// Parses a DNS message (RFC 1035 §4.1) with compressed names (§4.1.4).
pub fn parse_dns(p: &[u8]) -> Option<DnsMessage> {
    let mut c = Cursor::new(p);
    let _id = c.u16()?;
    let flags = c.u16()?;
    if flags & 0x7800 != 0 {
        return None; // opcode other than QUERY
    }
    let qd = usize::from(c.u16()?);
    let an = usize::from(c.u16()?);
    c.take(4)?; // NSCOUNT, ARCOUNT
    let mut msg = DnsMessage {
        response: flags & 0x8000 != 0,
        ..DnsMessage::default()
    };
    for _ in 0..qd.min(MAX_QUESTIONS) {
        let name = read_name(p, &mut c)?;
        let ty = c.u16()?;
        c.u16()?; // class
        msg.questions.push((name, ty));
    }
    if qd > MAX_QUESTIONS {
        return Some(msg);
    }
    for _ in 0..an.min(MAX_ANSWERS) {
        let Some(owner) = read_name(p, &mut c) else {
            break;
        };
        let (Some(ty), Some(_class), Some(_ttl), Some(len)) =
            (c.u16(), c.u16(), c.take(4), c.u16())
        else {
            break;
        };
        let Some(rdata) = c.take(usize::from(len)) else {
            break;
        };
        let data = match (ty, rdata.len()) {
            (1, 4) => DnsData::Addr(
                std::net::Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).into(),
            ),
            (28, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(rdata);
                DnsData::Addr(std::net::Ipv6Addr::from(a).into())
            }
            (5, _) => {
                let mut rc = Cursor {
                    buf: p,
                    pos: c.pos - rdata.len(),
                };
                match read_name(p, &mut rc) {
                    Some(n) => DnsData::Cname(n),
                    None => continue,
                }
            }
            _ => continue,
        };
        msg.answers.push(DnsAnswer { owner, data });
    }
    Some(msg)
}

/// Reads a possibly compressed name at the cursor; follows at most 32 pointers.
fn read_name(msg: &[u8], c: &mut Cursor) -> Option<String> {
    let mut out = String::new();
    let mut pos = c.pos;
    let mut jumped = false;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xc0 {
            0x00 => {
                pos += 1;
                if len == 0 {
                    break;
                }
                let label = msg.get(pos..pos + usize::from(len))?;
                if !out.is_empty() {
                    out.push('.');
                }
                for &b in label {
                    out.push(if b.is_ascii_graphic() {
                        b.to_ascii_lowercase() as char
                    } else {
                        '?'
                    });
                }
                if out.len() > 255 {
                    return None;
                }
                pos += usize::from(len);
            }
            0xc0 => {
                let lo = *msg.get(pos + 1)?;
                if !jumped {
                    c.pos = pos + 2;
                    jumped = true;
                }
                jumps += 1;
                if jumps > 32 {
                    return None;
                }
                pos = (usize::from(len & 0x3f) << 8) | usize::from(lo);
            }
            _ => return None,
        }
    }
    if !jumped {
        c.pos = pos;
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ClientHello with only the SNI extension, built per RFC 8446 §4.1.2.
    pub(crate) fn client_hello(sni: &str) -> Vec<u8> {
        let name = sni.as_bytes();
        let mut ext = Vec::new();
        ext.extend_from_slice(&0u16.to_be_bytes());
        let list_len = 3 + name.len();
        ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list_len as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        ext.extend_from_slice(name);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn sni_from_client_hello() {
        let ch = client_hello("A1.TuyaEU.com");
        assert!(is_tls_record(&ch));
        assert_eq!(tls_client_hello_sni(&ch).as_deref(), Some("a1.tuyaeu.com"));
        // Every truncation is handled without panicking.
        for n in 0..ch.len() {
            let _ = tls_client_hello_sni(&ch[..n]);
        }
        assert_eq!(
            tls_client_hello_sni(b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00"),
            None
        );
    }

    #[test]
    fn http_host_and_methods() {
        let req = b"GET /x HTTP/1.1\r\nUser-Agent: a\r\nHOST: Example.COM:8080\r\n\r\n";
        assert_eq!(http_request(req), Some(Some("example.com".into())));
        assert_eq!(http_request(b"POST / HTTP/1.0\r\n\r\n"), Some(None));
        assert_eq!(http_request(b"\x16\x03\x01"), None);
        assert!(is_http_response(b"HTTP/1.1 200 OK\r\n"));
    }

    #[test]
    fn mqtt_connect() {
        assert!(is_mqtt_connect(b"\x10\x1a\x00\x04MQTT\x04\x02"));
        assert!(is_mqtt_connect(b"\x10\x81\x01\x00\x04MQTT\x04"));
        assert!(!is_mqtt_connect(b"\x30\x1a\x00\x04MQTT"));
    }

    #[test]
    fn dns_response_with_compression_and_cname() {
        // Response: www.example.com CNAME e.cdn.net ; e.cdn.net A 93.184.216.34
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        m.extend_from_slice(
            b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x0b\x01e\x03cdn\x03net\x00",
        );
        let cname_at = 12 + 21 + 12;
        m.extend_from_slice(&[0xc0, cname_at as u8]);
        m.extend_from_slice(b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22");
        let d = parse_dns(&m).unwrap();
        assert!(d.response);
        assert_eq!(d.questions, vec![("www.example.com".to_string(), 1)]);
        assert_eq!(d.answers[0].data, DnsData::Cname("e.cdn.net".into()));
        assert_eq!(d.answers[1].owner, "e.cdn.net");
        assert_eq!(
            d.answers[1].data,
            DnsData::Addr("93.184.216.34".parse().unwrap())
        );
        for n in 0..m.len() {
            let _ = parse_dns(&m[..n]);
        }
    }

    #[test]
    fn dns_pointer_loop_is_refused() {
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xc0, 12]); // points at itself
        assert_eq!(parse_dns(&m).map(|d| d.questions.len()), None);
    }

    #[test]
    fn record_sniffers() {
        assert!(is_dtls_record(&[
            22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        ]));
        assert!(is_quic_long_header(&[0xc3, 0, 0, 0, 1, 8, 0]));
        assert!(!is_quic_long_header(&[0x43, 0, 0, 0, 1, 8, 0]));
    }
}
