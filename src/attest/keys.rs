//! Ed25519 key files: PKCS#8 PEM private keys and SPKI PEM public keys, as
//! written and read by `openssl genpkey -algorithm ed25519`.
//!
//! Hygiene (OpenSSH `authfile.c`): a private key file readable by group or
//! others, or owned by another (non-root) user, is refused before it is read.
//! New private keys are created with mode 0600 from the first byte, under a
//! temporary name, and linked into place only when complete, so an existing
//! key is never overwritten. Secret bytes live in zeroizing buffers and no
//! `Debug` output shows them.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::attest::canon::{Digest, hex_lower};

/// A key file larger than this is not a PEM key (refused before reading).
pub const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

/// Why a key could not be loaded or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The path is not a regular file (a directory, FIFO or device is
    /// refused before it is opened), or cannot be inspected.
    #[error(transparent)]
    Input(#[from] crate::input::ReadError),
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The private key file is readable or writable by group or others.
    #[error(
        "{path}: private key file has mode {mode:04o}, readable by group or others; fix with `chmod 600 {path}`"
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The private key file belongs to another user.
    #[error(
        "{path}: private key file is owned by uid {owner}, not by the current user (uid {current})"
    )]
    Owner {
        /// The key file.
        path: PathBuf,
        /// The file's owner.
        owner: u32,
        /// The effective uid of this process.
        current: u32,
    },
    /// Larger than [`MAX_KEY_FILE_BYTES`].
    #[error(
        "{path}: file is {len} bytes, larger than any PEM key ({MAX_KEY_FILE_BYTES} bytes max)"
    )]
    TooLarge {
        /// The key file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// Not an Ed25519 PKCS#8 private key in PEM (or its embedded public key
    /// does not match the seed).
    #[error("{path}: not an Ed25519 PKCS#8 PEM private key ({source})")]
    BadPrivateKey {
        /// The key file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: ed25519_dalek::pkcs8::Error,
    },
    /// Not an Ed25519 SubjectPublicKeyInfo public key in PEM.
    #[error("{path}: not an Ed25519 SPKI PEM public key ({source})")]
    BadPublicKey {
        /// The key file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: ed25519_dalek::pkcs8::spki::Error,
    },
    /// A small-order public key: any signature "verifies" under some
    /// implementations, so it is never accepted as a signer.
    #[error("{path}: weak (small-order) Ed25519 public key refused")]
    WeakPublicKey {
        /// The key file.
        path: PathBuf,
    },
    /// Refusing to overwrite an existing key file.
    #[error("{path}: already exists; refusing to overwrite a key file")]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// PEM encoding of a new key failed.
    #[error("encoding the new key failed: {0}")]
    Encode(#[source] ed25519_dalek::pkcs8::Error),
    /// The operating system's random source failed.
    #[error("the system random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// Key id: SHA-256 of the DER SubjectPublicKeyInfo, as hex. A hint for
/// finding the key, never a reason to trust a signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The key id of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        // Encoding a 32-byte key into SPKI cannot fail; fall back to hashing
        // the raw key rather than panicking if the encoder ever does.
        match key.to_public_key_der() {
            Ok(der) => KeyId(Digest::of_bytes(der.as_bytes()).0),
            Err(_) => KeyId(Digest::of_bytes(key.as_bytes()).0),
        }
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex_lower(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A private signing key loaded from (or written to) a key file. The secret
/// is zeroized on drop (by `ed25519_dalek::SigningKey`) and never printed.
pub struct SigningKeyFile {
    key: SigningKey,
    id: KeyId,
}

impl fmt::Debug for SigningKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyFile")
            .field("keyid", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl SigningKeyFile {
    /// Wraps a 32-byte Ed25519 seed (RFC 8032 §5.1.5).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_key(SigningKey::from_bytes(seed))
    }

    fn from_key(key: SigningKey) -> Self {
        let id = KeyId::of(&key.verifying_key());
        SigningKeyFile { key, id }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(KeyError::Random)?;
        Ok(Self::from_seed(&seed))
    }

    /// Parses a PKCS#8 PEM private key (v1 as OpenSSL writes it, or v2 with
    /// the public key, which must then match the seed).
    pub fn from_pem(pem: &str, path: &Path) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self::from_key)
            .map_err(|source| KeyError::BadPrivateKey {
                path: path.to_owned(),
                source,
            })
    }

    /// Loads a private key file after checking its owner and mode.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        crate::input::regular_file(path)?;
        let mut file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        check_private_key_metadata(path, &meta)?;
        if meta.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyError::TooLarge {
                path: path.to_owned(),
                len: meta.len(),
            });
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
        Read::by_ref(&mut file)
            .take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| KeyError::BadPrivateKey {
            path: path.to_owned(),
            source: ed25519_dalek::pkcs8::Error::KeyMalformed(
                ed25519_dalek::pkcs8::KeyError::Invalid,
            ),
        })?;
        Self::from_pem(text, path)
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// Key id of the public half.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Ed25519 signature (RFC 8032 §5.1.6, pure, no pre-hash) over `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        self.key.sign(msg)
    }

    /// PKCS#8 PEM of the private key (zeroized when dropped). Written as
    /// PKCS#8 v1 (seed only), the form `openssl genpkey` produces.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        bytes.to_pkcs8_pem(LineEnding::LF).map_err(KeyError::Encode)
    }

    /// Writes `PREFIX.key` (mode 0600) and `PREFIX.pub`; refuses to touch an
    /// existing file. Returns the two paths.
    pub fn write_pair(&self, prefix: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
        let key_path = with_suffix(prefix, ".key");
        let pub_path = with_suffix(prefix, ".pub");
        for p in [&key_path, &pub_path] {
            if fs::symlink_metadata(p).is_ok() {
                return Err(KeyError::Exists { path: p.clone() });
            }
        }
        let pem = self.to_pem()?;
        write_new_file(&key_path, pem.as_bytes(), 0o600)?;
        let public = self.public().to_pem()?;
        if let Err(e) = write_new_file(&pub_path, public.as_bytes(), 0o644) {
            // Do not leave half a pair behind.
            let _ = fs::remove_file(&key_path);
            return Err(e);
        }
        Ok((key_path, pub_path))
    }
}

/// A trusted Ed25519 public key with its key id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

impl PublicKey {
    /// From the 32-byte encoding; small-order (weak) keys are refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let key = VerifyingKey::from_bytes(bytes).ok()?;
        if key.is_weak() {
            return None;
        }
        Some(PublicKey {
            key,
            id: KeyId::of(&key),
        })
    }

    /// Parses an SPKI PEM public key.
    pub fn from_pem(pem: &str, path: &Path) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_public_key_pem(pem.trim()).map_err(|source| {
            KeyError::BadPublicKey {
                path: path.to_owned(),
                source,
            }
        })?;
        if key.is_weak() {
            return Err(KeyError::WeakPublicKey {
                path: path.to_owned(),
            });
        }
        Ok(PublicKey {
            key,
            id: KeyId::of(&key),
        })
    }

    /// Loads a public key file (bounded size).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        crate::input::regular_file(path)?;
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_KEY_FILE_BYTES {
            return Err(KeyError::TooLarge {
                path: path.to_owned(),
                len,
            });
        }
        let mut text = String::new();
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        Self::from_pem(&text, path)
    }

    /// SPKI PEM.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.into()))
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Strict Ed25519 verification (RFC 8032 §5.1.7 plus: S < L, no
    /// small-order R or A, canonical encodings). The only verification this
    /// crate performs.
    pub fn verify_strict(&self, msg: &[u8], sig: &Signature) -> bool {
        self.key.verify_strict(msg, sig).is_ok()
    }
}

/// `PREFIX` + `suffix` without treating dots in PREFIX as an extension.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Refuses group/other permission bits and foreign owners.
fn check_private_key_metadata(path: &Path, meta: &fs::Metadata) -> Result<(), KeyError> {
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    // The effective uid, without unsafe libc calls: Linux gives /proc/self
    // to the process's owner. Root-owned keys are allowed (OpenSSH does too).
    if let Ok(me) = fs::metadata("/proc/self") {
        let (owner, current) = (meta.uid(), me.uid());
        if owner != current && owner != 0 {
            return Err(KeyError::Owner {
                path: path.to_owned(),
                owner,
                current,
            });
        }
    }
    Ok(())
}

/// Creates `path` with `mode` holding `bytes`, atomically: written and
/// synced under a temporary name in the same directory, then hard-linked
/// into place (which fails if `path` appeared meanwhile), then unlinked.
fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(KeyError::Random)?;
    let tmp = with_suffix(path, &format!(".tmp-{}", hex_lower(&nonce)));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyError::Exists {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(io(e)),
    }
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // RFC 8032 §7.1 TEST 1.
    const SEED1: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUB1: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const SIG1: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn seed1() -> [u8; 32] {
        unhex(SEED1).try_into().unwrap()
    }

    #[test]
    fn rfc8032_test1_sign_and_strict_verify() {
        let k = SigningKeyFile::from_seed(&seed1());
        assert_eq!(hex_lower(&k.public().to_bytes()), PUB1);
        let sig = k.sign(b"");
        assert_eq!(hex_lower(&sig.to_bytes()), SIG1);
        assert!(k.public().verify_strict(b"", &sig));
        assert!(!k.public().verify_strict(b"x", &sig));
    }

    #[test]
    fn key_files_are_read_up_to_16_kib() {
        assert_eq!(MAX_KEY_FILE_BYTES, 16 * 1024);
        let dir = tempfile::tempdir().unwrap();
        // Under the limit, a file that is not a key is judged on its content.
        let junk = dir.path().join("junk.pub");
        std::fs::write(&junk, vec![b'x'; 2000]).unwrap();
        assert!(matches!(
            PublicKey::load(&junk),
            Err(KeyError::BadPublicKey { .. })
        ));
        // At the limit it is still read; one byte over it, refused unread.
        for (len, private) in [(16 * 1024, false), (16 * 1024 + 1, true)] {
            let pubf = dir.path().join(format!("{len}.pub"));
            std::fs::write(&pubf, vec![b'x'; len]).unwrap();
            let keyf = dir.path().join(format!("{len}.key"));
            std::fs::write(&keyf, vec![b'x'; len]).unwrap();
            std::fs::set_permissions(&keyf, std::fs::Permissions::from_mode(0o600)).unwrap();
            let (p, k) = (PublicKey::load(&pubf), SigningKeyFile::load(&keyf));
            if private {
                assert!(matches!(p, Err(KeyError::TooLarge { len: 16385, .. })));
                assert!(matches!(k, Err(KeyError::TooLarge { len: 16385, .. })));
            } else {
                assert!(matches!(p, Err(KeyError::BadPublicKey { .. })), "{p:?}");
                assert!(
                    matches!(k, Err(KeyError::BadPrivateKey { .. })),
                    "{:?}",
                    k.err()
                );
            }
        }
    }

    #[test]
    fn a_key_file_of_exactly_16_kib_is_read_whole() {
        // A public key after blank lines, with no final newline, padded to
        // the limit: reading one byte less would cut its END line.
        let dir = tempfile::tempdir().unwrap();
        let pem = SigningKeyFile::from_seed(&seed1())
            .public()
            .to_pem()
            .unwrap();
        let pem = pem.trim_end();
        let padded = format!("{}{pem}", "\n".repeat(16 * 1024 - pem.len()));
        assert_eq!(padded.len(), 16 * 1024);
        let f = dir.path().join("padded.pub");
        std::fs::write(&f, &padded).unwrap();
        let key = PublicKey::load(&f).unwrap();
        assert_eq!(key.id(), SigningKeyFile::from_seed(&seed1()).id());
    }

    #[test]
    fn key_ids_debug_as_their_hex() {
        let k = SigningKeyFile::from_seed(&seed1());
        let id = k.public().id();
        assert_eq!(format!("{id:?}"), format!("KeyId({id})"));
        assert_eq!(format!("{:?}", k.public()), format!("PublicKey({id})"));
        assert_eq!(id.to_string().len(), 64);
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let k = SigningKeyFile::from_seed(&seed1());
        let dbg = format!("{k:?}");
        assert!(dbg.contains("<redacted>"));
        assert!(!dbg.contains(SEED1));
        assert!(!dbg.to_lowercase().contains(&SEED1[..16]));
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroize_on_drop::<SigningKey>();
    }

    #[test]
    fn pem_round_trip_and_keyid() {
        let k = SigningKeyFile::from_seed(&seed1());
        let pem = k.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SigningKeyFile::from_pem(&pem, Path::new("k")).unwrap();
        assert_eq!(back.public(), k.public());
        let pubpem = k.public().to_pem().unwrap();
        assert!(pubpem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let p = PublicKey::from_pem(&pubpem, Path::new("p")).unwrap();
        assert_eq!(p, k.public());
        // SPKI DER = 302a300506032b6570032100 || key (RFC 8410 §4).
        let mut der = unhex("302a300506032b6570032100");
        der.extend(unhex(PUB1));
        assert_eq!(p.id().0, Digest::of_bytes(&der).0);
    }

    // RFC 8410 §10.3: the example private key (PKCS#8 v1, as OpenSSL writes).
    #[test]
    fn rfc8410_example_private_key_loads() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let k = SigningKeyFile::from_pem(pem, Path::new("rfc8410")).unwrap();
        assert_eq!(
            hex_lower(&k.public().to_bytes()),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
    }

    #[test]
    fn v2_with_mismatched_public_key_is_refused() {
        let k = SigningKeyFile::from_seed(&seed1());
        let other = SigningKeyFile::from_seed(&[7u8; 32]);
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: k.key.to_bytes(),
            public_key: Some(ed25519_dalek::pkcs8::PublicKeyBytes(
                other.public().to_bytes(),
            )),
        };
        let pem = bytes.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert!(matches!(
            SigningKeyFile::from_pem(&pem, Path::new("k")),
            Err(KeyError::BadPrivateKey { .. })
        ));
    }

    #[test]
    fn weak_public_keys_are_refused() {
        // The identity point and a point of order 2 (small order).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::from_bytes(&identity).is_none());
        let mut order2 = [0u8; 32];
        order2[0] = 0xec;
        for b in order2.iter_mut().skip(1).take(30) {
            *b = 0xff;
        }
        order2[31] = 0x7f;
        assert!(PublicKey::from_bytes(&order2).is_none());
        // The eight low-order points ("Taming the many EdDSAs", §5; the
        // same encodings open ed25519-speccheck's cases).
        for hex in [
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        ] {
            let bytes: [u8; 32] = unhex(hex).try_into().unwrap();
            assert!(PublicKey::from_bytes(&bytes).is_none(), "{hex}");
        }
        assert!(PublicKey::from_bytes(&unhex(PUB1).try_into().unwrap()).is_some());
    }

    #[test]
    fn write_pair_mode_and_no_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("vendor.v1");
        let k = SigningKeyFile::generate().unwrap();
        let (kp, pp) = k.write_pair(&prefix).unwrap();
        assert_eq!(kp, dir.path().join("vendor.v1.key"));
        assert_eq!(
            fs::metadata(&kp).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let loaded = SigningKeyFile::load(&kp).unwrap();
        assert_eq!(loaded.public(), PublicKey::load(&pp).unwrap());
        assert!(matches!(
            k.write_pair(&prefix),
            Err(KeyError::Exists { .. })
        ));
        // No temporary files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_key_file_that_appears_meanwhile_is_not_overwritten() {
        // `write_pair` checks first; the link into place refuses too, for
        // a file that appears between the check and the write.
        let dir = tempfile::tempdir().unwrap();
        let there = dir.path().join("there.key");
        fs::write(&there, b"someone else's").unwrap();
        assert!(matches!(
            write_new_file(&there, b"new", 0o600),
            Err(KeyError::Exists { .. })
        ));
        assert_eq!(fs::read(&there).unwrap(), b"someone else's");
        // Any other failure is an I/O error naming the file, not "exists".
        let nowhere = dir.path().join("no-such-dir").join("k.key");
        assert!(matches!(
            write_new_file(&nowhere, b"new", 0o600),
            Err(KeyError::Io { .. })
        ));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn group_or_world_readable_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let k = SigningKeyFile::from_seed(&seed1());
        let (kp, _) = k.write_pair(&dir.path().join("k")).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&kp, fs::Permissions::from_mode(mode)).unwrap();
            let err = SigningKeyFile::load(&kp).unwrap_err();
            assert!(matches!(err, KeyError::Permissions { .. }), "{mode:o}");
            assert!(err.to_string().contains("chmod 600"));
        }
        fs::set_permissions(&kp, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(SigningKeyFile::load(&kp).is_ok());
    }

    #[test]
    fn key_owned_by_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let k = SigningKeyFile::from_seed(&seed1());
        let (kp, _) = k.write_pair(&dir.path().join("k")).unwrap();
        // Changing the owner needs privileges; without them the case cannot
        // be set up, and the file stays ours and loads.
        match std::os::unix::fs::chown(&kp, Some(54321), None) {
            Ok(()) => assert!(matches!(
                SigningKeyFile::load(&kp),
                Err(KeyError::Owner { owner: 54321, .. })
            )),
            Err(_) => assert!(SigningKeyFile::load(&kp).is_ok()),
        }
    }
}
