//! Deterministic generator of realistic Qualys CS image-details documents.
//!
//! [`generate`] builds the body of `GET /csapi/v1.3/images/{sha}` (`qualys-api.md` §4.2–4.6)
//! for an image made of an OS layer (dpkg, rpm or apk packages with that distribution's version
//! style) and an application layer (Java, Python and Node packages). The same [`ReportSpec`]
//! always gives the same document: every random choice comes from a `ChaCha8` stream seeded
//! with [`ReportSpec::seed`].
//!
//! Field types follow the real API exactly: timestamps are strings of epoch milliseconds
//! (except `published`, a number), CVSS base scores are strings, the image `size` is a number
//! while `layers[].size` is a string, `cvssInfo`, `cvss3Info` and `threatIntel` are always
//! objects, and `cveids` is always an array.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// The base distribution of the generated image: decides package names, version style,
/// QID range, advisory names and `operatingSystem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    /// Debian 12 (dpkg; versions like `2.36-9+deb12u4`).
    #[default]
    Debian,
    /// Ubuntu 22.04 (dpkg; versions like `3.0.2-0ubuntu1.12`).
    Ubuntu,
    /// Alpine 3.19 (apk; versions like `1.36.1-r2`).
    Alpine,
    /// Red Hat Enterprise Linux 8 (rpm; versions like `1.1.1k-7.el8_6`).
    Rhel,
    /// Rocky Linux 9 (rpm; versions like `3.0.7-25.el9_3`).
    Rocky,
    /// Amazon Linux 2 (rpm; versions like `2.0.7-1.amzn2.0.2`).
    Amazon,
}

impl Base {
    /// Every base, in a fixed order (handy for tests and for `--base` help text).
    pub const ALL: [Base; 6] = [
        Base::Debian,
        Base::Ubuntu,
        Base::Alpine,
        Base::Rhel,
        Base::Rocky,
        Base::Amazon,
    ];

    /// The lowercase name used in scenario files (`debian`, `ubuntu`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Base::Debian => "debian",
            Base::Ubuntu => "ubuntu",
            Base::Alpine => "alpine",
            Base::Rhel => "rhel",
            Base::Rocky => "rocky",
            Base::Amazon => "amazon",
        }
    }

    fn operating_system(self) -> &'static str {
        match self {
            Base::Debian => "Debian Linux 12.5",
            Base::Ubuntu => "Ubuntu Linux 22.04.4",
            Base::Alpine => "Alpine Linux 3.19.1",
            Base::Rhel => "Red Hat Enterprise Linux 8.6",
            Base::Rocky => "Rocky Linux 9.3",
            Base::Amazon => "Amazon Linux 2",
        }
    }

    fn category(self) -> &'static str {
        match self {
            Base::Debian => "Debian",
            Base::Ubuntu => "Ubuntu",
            Base::Alpine => "Alpine Linux",
            Base::Rhel => "RedHat",
            Base::Rocky => "Rocky Linux",
            Base::Amazon => "Amazon Linux",
        }
    }

    fn vendor(self) -> &'static str {
        match self {
            Base::Debian => "debian",
            Base::Ubuntu => "ubuntu",
            Base::Alpine => "alpinelinux",
            Base::Rhel => "redhat",
            Base::Rocky => "rockylinux",
            Base::Amazon => "amazon",
        }
    }

    fn product(self) -> &'static str {
        match self {
            Base::Debian => "debian_linux_12",
            Base::Ubuntu => "ubuntu_22.04",
            Base::Alpine => "alpine_linux_3.19",
            Base::Rhel => "enterprise_linux_8",
            Base::Rocky => "rocky_linux_9",
            Base::Amazon => "amazon_linux_2",
        }
    }

    /// First QID of the OS family's range; QIDs are spaced 1..2 apart from there.
    fn qid_start(self) -> u64 {
        match self {
            Base::Debian => 178_000,
            Base::Ubuntu => 6_000_000,
            Base::Alpine => 690_000,
            Base::Rhel => 239_000,
            Base::Rocky => 960_000,
            Base::Amazon => 351_000,
        }
    }

    fn base_layer_size(self) -> u64 {
        match self {
            Base::Alpine => 7_377_920,
            Base::Debian => 74_793_472,
            Base::Ubuntu => 77_824_000,
            Base::Rhel | Base::Rocky => 215_343_104,
            Base::Amazon => 163_577_856,
        }
    }
}

impl std::str::FromStr for Base {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Base::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown base `{s}`; expected one of: debian, ubuntu, alpine, rhel, rocky, amazon"
                )
            })
    }
}

/// What to generate. `Default` gives a small Debian image (40 vulnerabilities, 120 packages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSpec {
    /// Seed of every random choice; the same spec always gives the same document.
    pub seed: u64,
    /// Base distribution of the OS layer.
    pub base: Base,
    /// Exact number of entries in `vulnerabilities[]`.
    pub vulnerabilities: usize,
    /// Exact number of entries in `softwares[]` (OS plus application packages).
    pub packages: usize,
    /// Share of the packages (and of the vulnerabilities) that belong to the application layer
    /// (Java, Python, Node), 0.0..=1.0.
    pub app_share: f64,
    /// Share of vulnerabilities detected as `POTENTIAL` rather than `CONFIRMED`, 0.0..=1.0.
    pub potential_share: f64,
    /// Share of vulnerabilities with a patch available, 0.0..=1.0.
    pub patchable_share: f64,
    /// Image sha (64 hex). `None`: derived from the seed with [`generate_sha`].
    pub sha: Option<String>,
    /// Repository name reported in `repo[]`.
    pub repository: String,
    /// Tag reported in `repo[]`.
    pub tag: String,
    /// Scan time (epoch ms): `lastScanned`, `firstFound`, `lastFound`; other times precede it.
    pub scanned_at_ms: u64,
    /// Put the `Log4Shell` detection (QID 376209 on `log4j-core` 2.14.1) first among the
    /// application findings when the image has Java packages and at least one app finding.
    pub log4shell: bool,
    /// The scan fails: the document says `scanStatus: "FAILED"` with this `scanErrorCode`
    /// (e.g. `"SCAN_TIMEOUT"`) and `vulnerabilities: null`, and the emulator never serves a
    /// vulnerability list for it. `None` (default): the scan succeeds (`"SUCCESS"`, `null`).
    pub scan_error: Option<String>,
    /// How many findings (the last ones, so the `Log4Shell` finding stays intact in small
    /// reports) carry a wrongly typed CVSS sub-object, in turn: `cvssInfo` as a string, `cvss3Info`
    /// as a number, `cvssInfo` as a number with `cvss3Info` as a string. Default 0.
    pub mistyped_cvss: usize,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            seed: 1,
            base: Base::Debian,
            vulnerabilities: 40,
            packages: 120,
            app_share: 0.3,
            potential_share: 0.1,
            patchable_share: 0.75,
            sha: None,
            repository: "acme/payments-api".to_owned(),
            tag: "1.4.2".to_owned(),
            scanned_at_ms: 1_717_243_260_000,
            log4shell: true,
            scan_error: None,
            mistyped_cvss: 0,
        }
    }
}

/// A deterministic 64-hex image sha for `seed` (the same one [`generate`] uses when
/// [`ReportSpec::sha`] is `None`).
pub fn generate_sha(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5AA5_0F0F_1234_8765);
    hex(&mut rng, 32)
}

fn hex(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let b: u8 = rng.random();
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let h = hex(rng, 16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Package ecosystems of the generated image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eco {
    Os,
    Java,
    Python,
    Node,
}

struct Package {
    name: String,
    version: String,
    fix: String,
    path: Option<String>,
    eco: Eco,
    /// QIDs of the vulnerabilities on this package, in generation order.
    qids: Vec<u64>,
    /// Whether any of them has a patch available.
    patchable: bool,
}

const DEB_PACKAGES: &[&str] = &[
    "libc6",
    "libc-bin",
    "libssl3",
    "openssl",
    "bash",
    "coreutils",
    "dpkg",
    "apt",
    "libsystemd0",
    "libudev1",
    "zlib1g",
    "libgnutls30",
    "libgcrypt20",
    "libcurl4",
    "curl",
    "libexpat1",
    "libxml2",
    "libsqlite3-0",
    "libpcre2-8-0",
    "libtasn1-6",
    "libkrb5-3",
    "libgssapi-krb5-2",
    "libk5crypto3",
    "libkrb5support0",
    "libnghttp2-14",
    "libssh2-1",
    "perl-base",
    "tar",
    "gzip",
    "libzstd1",
    "liblzma5",
    "libbz2-1.0",
    "libpam0g",
    "libpam-modules",
    "login",
    "passwd",
    "libdb5.3",
    "libgmp10",
    "libnettle8",
    "libhogweed6",
    "libidn2-0",
    "libp11-kit0",
    "libseccomp2",
    "libselinux1",
    "libsemanage2",
    "libtinfo6",
    "ncurses-base",
    "libncursesw6",
    "util-linux",
    "mount",
    "libblkid1",
    "libmount1",
    "libuuid1",
    "e2fsprogs",
    "libext2fs2",
    "libcom-err2",
    "libss2",
    "sysvinit-utils",
    "tzdata",
    "ca-certificates",
    "libldap-2.5-0",
    "libsasl2-2",
    "libpython3.11-minimal",
    "python3.11-minimal",
    "libgnutls-dane0",
    "libunistring2",
    "libffi8",
    "libstdc++6",
    "libgcc-s1",
    "gpgv",
    "libcap2",
    "libacl1",
    "libattr1",
    "libaudit1",
    "libcap-ng0",
    "libcrypt1",
    "libdebconfclient0",
    "findutils",
    "grep",
    "sed",
    "hostname",
    "procps",
    "libprocps8",
    "libsmartcols1",
    "libxxhash0",
    "liblz4-1",
    "git",
    "git-man",
    "wget",
    "libjpeg62-turbo",
    "libpng16-16",
    "libfreetype6",
    "libtiff6",
    "libwebp7",
    "imagemagick-6-common",
    "libmagickcore-6.q16-6",
];

const APK_PACKAGES: &[&str] = &[
    "musl",
    "musl-utils",
    "busybox",
    "busybox-binsh",
    "alpine-baselayout",
    "alpine-baselayout-data",
    "alpine-keys",
    "apk-tools",
    "libcrypto3",
    "libssl3",
    "ssl_client",
    "zlib",
    "scanelf",
    "libc-utils",
    "ca-certificates-bundle",
    "libcurl",
    "curl",
    "nghttp2-libs",
    "brotli-libs",
    "c-ares",
    "libexpat",
    "libxml2",
    "sqlite-libs",
    "pcre2",
    "libgcc",
    "libstdc++",
    "libffi",
    "ncurses-libs",
    "ncurses-terminfo-base",
    "readline",
    "bash",
    "libintl",
    "gettext-libs",
    "xz-libs",
    "zstd-libs",
    "libbz2",
    "krb5-libs",
    "keyutils-libs",
    "libcom_err",
    "libverto",
    "openldap",
    "libsasl",
    "git",
    "openssh-client-common",
    "openssh-keygen",
    "tzdata",
    "libpng",
    "libjpeg-turbo",
    "freetype",
    "libwebp",
    "tiff",
    "python3",
    "py3-pip",
    "nodejs",
    "npm",
    "openjdk17-jre-headless",
];

const RPM_PACKAGES: &[&str] = &[
    "glibc",
    "glibc-common",
    "glibc-minimal-langpack",
    "openssl-libs",
    "openssl",
    "bash",
    "coreutils-single",
    "rpm",
    "rpm-libs",
    "systemd-libs",
    "zlib",
    "gnutls",
    "libgcrypt",
    "libcurl-minimal",
    "curl-minimal",
    "expat",
    "libxml2",
    "sqlite-libs",
    "pcre2",
    "libtasn1",
    "krb5-libs",
    "libssh",
    "libnghttp2",
    "tar",
    "gzip",
    "libzstd",
    "xz-libs",
    "bzip2-libs",
    "pam",
    "shadow-utils",
    "libdb",
    "gmp",
    "nettle",
    "libidn2",
    "p11-kit",
    "p11-kit-trust",
    "libseccomp",
    "libselinux",
    "libsemanage",
    "ncurses-base",
    "ncurses-libs",
    "util-linux",
    "libblkid",
    "libmount",
    "libuuid",
    "e2fsprogs-libs",
    "libcom_err",
    "tzdata",
    "ca-certificates",
    "openldap",
    "cyrus-sasl-lib",
    "python3-libs",
    "platform-python",
    "libffi",
    "libstdc++",
    "libgcc",
    "gnupg2",
    "gpgme",
    "libcap",
    "libacl",
    "libattr",
    "audit-libs",
    "libcap-ng",
    "libxcrypt",
    "findutils",
    "grep",
    "sed",
    "procps-ng",
    "lz4-libs",
    "dnf",
    "dnf-data",
    "libdnf",
    "librepo",
    "libsolv",
    "yum",
    "python3-dnf",
    "python3-rpm",
    "dbus-libs",
    "libarchive",
    "vim-minimal",
    "less",
    "git-core",
    "libjpeg-turbo",
    "libpng",
    "freetype",
    "libtiff",
    "libwebp",
];

const JAVA_PACKAGES: &[&str] = &[
    "org.apache.logging.log4j:log4j-core",
    "org.apache.logging.log4j:log4j-api",
    "org.springframework:spring-core",
    "org.springframework:spring-web",
    "org.springframework:spring-webmvc",
    "org.springframework:spring-beans",
    "org.springframework.boot:spring-boot",
    "org.springframework.boot:spring-boot-autoconfigure",
    "com.fasterxml.jackson.core:jackson-databind",
    "com.fasterxml.jackson.core:jackson-core",
    "org.yaml:snakeyaml",
    "org.apache.tomcat.embed:tomcat-embed-core",
    "io.netty:netty-codec-http",
    "io.netty:netty-handler",
    "io.netty:netty-common",
    "com.google.guava:guava",
    "com.google.protobuf:protobuf-java",
    "org.apache.commons:commons-text",
    "commons-io:commons-io",
    "commons-collections:commons-collections",
    "org.apache.commons:commons-compress",
    "ch.qos.logback:logback-classic",
    "ch.qos.logback:logback-core",
    "org.postgresql:postgresql",
    "com.h2database:h2",
    "org.bouncycastle:bcprov-jdk15on",
    "com.nimbusds:nimbus-jose-jwt",
    "org.eclipse.jetty:jetty-server",
    "org.apache.httpcomponents:httpclient",
    "org.json:json",
];

const PYTHON_PACKAGES: &[&str] = &[
    "requests",
    "urllib3",
    "certifi",
    "idna",
    "charset-normalizer",
    "django",
    "flask",
    "werkzeug",
    "jinja2",
    "markupsafe",
    "pyyaml",
    "cryptography",
    "pyopenssl",
    "setuptools",
    "pip",
    "wheel",
    "numpy",
    "pillow",
    "sqlalchemy",
    "aiohttp",
    "gunicorn",
    "paramiko",
    "lxml",
    "protobuf",
    "grpcio",
];

const NODE_PACKAGES: &[&str] = &[
    "lodash",
    "express",
    "body-parser",
    "qs",
    "minimist",
    "axios",
    "follow-redirects",
    "semver",
    "json5",
    "jsonwebtoken",
    "moment",
    "node-fetch",
    "ws",
    "tar",
    "glob-parent",
    "path-to-regexp",
    "cookie",
    "send",
    "serve-static",
    "ansi-regex",
    "minimatch",
    "braces",
    "word-wrap",
    "tough-cookie",
    "xml2js",
];

const SYNTH_STEMS: &[&str] = &[
    "xml",
    "ssl",
    "z",
    "png",
    "jpeg",
    "gif",
    "curl",
    "uv",
    "event",
    "yaml",
    "json",
    "crypt",
    "gpg",
    "ssh",
    "ldap",
    "krb",
    "sasl",
    "pcre",
    "icu",
    "ffi",
    "archive",
    "lzma",
    "brotli",
    "idn",
    "magic",
    "cap",
    "audit",
    "selinux",
    "dbus",
    "glib",
    "harfbuzz",
    "fontconfig",
    "pixman",
    "cairo",
    "pango",
    "tiff",
    "webp",
    "heif",
    "avif",
    "opus",
];

/// Generates one image-details document (`GET /csapi/v1.3/images/{sha}`, processed state).
///
/// The output has exactly `spec.vulnerabilities` entries in `vulnerabilities[]` and exactly
/// `spec.packages` entries in `softwares[]`; QIDs are unique within the image. When
/// `spec.packages` is 0 the vulnerabilities carry empty `software[]` arrays.
pub fn generate(spec: &ReportSpec) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let sha = spec.sha.clone().unwrap_or_else(|| generate_sha(spec.seed));
    let base = spec.base;
    let app_share = spec.app_share.clamp(0.0, 1.0);

    // --- layers -------------------------------------------------------------------------
    let scanned = spec.scanned_at_ms;
    let created = scanned.saturating_sub(rng.random_range(3_600_000..30 * 86_400_000));
    let base_created = created.saturating_sub(rng.random_range(86_400_000..90 * 86_400_000));
    let os_layer_sha = hex(&mut rng, 32);
    let app_layer_sha = hex(&mut rng, 32);
    let deps_layer_sha = hex(&mut rng, 32);
    let base_size = base.base_layer_size() + rng.random_range(0..4_000_000);
    let deps_size = rng.random_range(20_000_000..90_000_000u64);
    let app_size = rng.random_range(8_000_000..60_000_000u64);
    let install_cmd = match base {
        Base::Debian | Base::Ubuntu => {
            "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*"
        }
        Base::Alpine => "/bin/sh -c apk add --no-cache ca-certificates curl bash",
        Base::Rhel | Base::Rocky | Base::Amazon => {
            "/bin/sh -c yum install -y ca-certificates curl && yum clean all"
        }
    };
    let layers = json!([
        layer(
            base_size,
            &format!("ADD file:{} in / ", hex(&mut rng, 32)),
            base_created,
            Some(&os_layer_sha),
            1,
            Some(true)
        ),
        layer(
            0,
            "/bin/sh -c #(nop)  CMD [\"/bin/bash\"]",
            base_created,
            None,
            2,
            Some(true)
        ),
        layer(
            deps_size,
            install_cmd,
            created - 60_000,
            Some(&deps_layer_sha),
            3,
            Some(false)
        ),
        layer(
            app_size,
            "COPY target/app /app # buildkit",
            created - 30_000,
            Some(&app_layer_sha),
            4,
            Some(false)
        ),
        layer(0, "WORKDIR /app", created - 20_000, None, 5, Some(false)),
        layer(
            0,
            "CMD [\"/app/entrypoint.sh\"]",
            created,
            None,
            6,
            Some(false)
        ),
    ]);
    let size = base_size + deps_size + app_size;

    // --- packages -----------------------------------------------------------------------
    let app_packages = share_of(spec.packages, app_share);
    let os_packages = spec.packages - app_packages;
    let mut packages: Vec<Package> = Vec::with_capacity(spec.packages);
    let os_names: &[&str] = match base {
        Base::Debian | Base::Ubuntu => DEB_PACKAGES,
        Base::Alpine => APK_PACKAGES,
        Base::Rhel | Base::Rocky | Base::Amazon => RPM_PACKAGES,
    };
    for i in 0..os_packages {
        let name = pick_name(os_names, i, |n| match base {
            Base::Alpine | Base::Rhel | Base::Rocky | Base::Amazon => {
                format!(
                    "{}{}-libs",
                    SYNTH_STEMS[n % SYNTH_STEMS.len()],
                    n / SYNTH_STEMS.len() + 10
                )
            }
            Base::Debian | Base::Ubuntu => {
                format!(
                    "lib{}{}",
                    SYNTH_STEMS[n % SYNTH_STEMS.len()],
                    n / SYNTH_STEMS.len() + 10
                )
            }
        });
        // Always draw, so that known versions do not shift the rest of the stream.
        let drawn = os_version(&mut rng, base);
        let (version, fix) =
            known_version(base, &name).map_or(drawn, |(v, f)| (v.to_owned(), f.to_owned()));
        packages.push(Package {
            name,
            version,
            fix,
            path: None,
            eco: Eco::Os,
            qids: Vec::new(),
            patchable: false,
        });
    }
    for i in 0..app_packages {
        let eco = match i % 3 {
            0 => Eco::Java,
            1 => Eco::Python,
            _ => Eco::Node,
        };
        let k = i / 3;
        let (name, version, fix, path) = match eco {
            Eco::Java => {
                let name = pick_name(JAVA_PACKAGES, k, |n| {
                    format!(
                        "com.acme.internal:module-{}{}",
                        SYNTH_STEMS[n % SYNTH_STEMS.len()],
                        n / SYNTH_STEMS.len()
                    )
                });
                let (v, f) = if name == "org.apache.logging.log4j:log4j-core" && spec.log4shell {
                    ("2.14.1".to_owned(), "2.17.1".to_owned())
                } else {
                    semver_pair(&mut rng)
                };
                let artifact = name.rsplit(':').next().unwrap_or(&name).to_owned();
                let path = format!("/app/lib/{artifact}-{v}.jar");
                (name, v, f, Some(path))
            }
            Eco::Python => {
                let name = pick_name(PYTHON_PACKAGES, k, |n| {
                    format!(
                        "py{}{}",
                        SYNTH_STEMS[n % SYNTH_STEMS.len()],
                        n / SYNTH_STEMS.len()
                    )
                });
                let (v, f) = semver_pair(&mut rng);
                let path = format!(
                    "/usr/local/lib/python3.11/site-packages/{}-{v}.dist-info/METADATA",
                    name.replace('-', "_")
                );
                (name, v, f, Some(path))
            }
            Eco::Node | Eco::Os => {
                let name = pick_name(NODE_PACKAGES, k, |n| {
                    format!(
                        "@acme/{}-{}",
                        SYNTH_STEMS[n % SYNTH_STEMS.len()],
                        n / SYNTH_STEMS.len()
                    )
                });
                let (v, f) = semver_pair(&mut rng);
                let path = format!("/app/node_modules/{name}/package.json");
                (name, v, f, Some(path))
            }
        };
        packages.push(Package {
            name,
            version,
            fix,
            path,
            eco,
            qids: Vec::new(),
            patchable: false,
        });
    }

    // --- vulnerabilities ----------------------------------------------------------------
    let app_vulns = if app_packages == 0 {
        0
    } else if os_packages == 0 {
        spec.vulnerabilities
    } else {
        share_of(spec.vulnerabilities, app_share)
    };
    let os_vulns = spec.vulnerabilities - app_vulns;
    // Vulnerable subsets: the first ~40% of each group (at least one), hit with a skew.
    let os_range = 0..os_packages;
    let app_range = os_packages..spec.packages;
    let mut vulns: Vec<Value> = Vec::with_capacity(spec.vulnerabilities);
    let log4j_index = packages
        .iter()
        .position(|p| p.name == "org.apache.logging.log4j:log4j-core");
    let mut next_os_qid = base.qid_start();
    let mut next_app_qid = 376_300u64;
    for i in 0..spec.vulnerabilities {
        let is_app = i >= os_vulns;
        let range = if is_app {
            app_range.clone()
        } else {
            os_range.clone()
        };
        let log4shell_here = is_app && i == os_vulns && spec.log4shell && log4j_index.is_some();
        let pkg_index = if log4shell_here {
            log4j_index
        } else if range.is_empty() {
            None
        } else {
            let len = range.len();
            let vulnerable = (len * 2).div_ceil(5).max(1);
            // Skew: low indices (common, old libraries) collect more findings.
            let r: f64 = rng.random();
            Some(range.start + share_of(vulnerable, r * r).min(vulnerable - 1))
        };
        let qid = if log4shell_here {
            376_209
        } else if is_app {
            let q = next_app_qid + rng.random_range(0..2);
            next_app_qid = q + 1;
            q
        } else {
            let q = next_os_qid + rng.random_range(0..2);
            next_os_qid = q + 1;
            q
        };
        let v = vulnerability(
            &mut rng,
            spec,
            qid,
            pkg_index.map(|ix| &packages[ix]),
            if is_app {
                &app_layer_sha
            } else {
                &os_layer_sha
            },
            log4shell_here,
        );
        if let Some(ix) = pkg_index {
            packages[ix].qids.push(qid);
            if v["patchAvailable"] == Value::Bool(true) {
                packages[ix].patchable = true;
            }
        }
        vulns.push(v);
    }

    let softwares: Vec<Value> = packages
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "version": p.version,
                "fixVersion": if p.patchable { Value::String(p.fix.clone()) } else { Value::Null },
                "packagePath": p.path,
                "scanType": "DYNAMIC",
                "vulnerabilities": p.qids.iter().map(|q| json!({ "qid": q })).collect::<Vec<_>>(),
            })
        })
        .collect();

    // --- top level ----------------------------------------------------------------------
    let max_qds = vulns
        .iter()
        .filter_map(|v| v["qdsScore"].as_u64())
        .max()
        .unwrap_or(0);
    let risk_score: u64 = vulns
        .iter()
        .filter_map(|v| v["severity"].as_u64())
        .map(|s| s * s)
        .sum::<u64>()
        .min(1000);
    let qds_severity = match max_qds {
        0 => Value::Null,
        1..=39 => json!("LOW"),
        40..=69 => json!("MEDIUM"),
        70..=89 => json!("HIGH"),
        _ => json!("CRITICAL"),
    };
    let registry = "registry.acme.example";
    let image_uuid = uuid(&mut rng);
    let customer_uuid = uuid(&mut rng);
    let sensor_uuid = uuid(&mut rng);
    let digest = hex(&mut rng, 32);
    let host_octet: u8 = rng.random_range(2..250);
    let runner: u8 = rng.random_range(1..40);
    let mut doc = Map::new();
    doc.insert("created".into(), ms(created));
    doc.insert("updated".into(), ms(scanned + 5_123));
    doc.insert("lastUsedDate".into(), ms(scanned + 5_123));
    doc.insert("lastScanned".into(), ms(scanned));
    doc.insert("lastVmScanDate".into(), ms(scanned + 1_000));
    doc.insert("author".into(), json!("ACME Build <build@acme.example>"));
    doc.insert(
        "repo".into(),
        json!([{ "registry": registry, "tag": spec.tag, "repository": spec.repository }]),
    );
    doc.insert(
        "repoDigests".into(),
        json!([{ "registry": registry, "digest": digest, "repository": spec.repository }]),
    );
    doc.insert("label".into(), Value::Null);
    doc.insert("uuid".into(), json!(image_uuid));
    doc.insert("imageId".into(), json!(sha.get(..12).unwrap_or(&sha)));
    doc.insert("sha".into(), json!(sha));
    doc.insert("customerUuid".into(), json!(customer_uuid));
    doc.insert("operatingSystem".into(), json!(base.operating_system()));
    doc.insert("architecture".into(), json!("amd64"));
    doc.insert("dockerVersion".into(), json!("24.0.7"));
    doc.insert("size".into(), json!(size));
    doc.insert("source".into(), json!(["CICD"]));
    doc.insert("scanType".into(), Value::Null);
    doc.insert("scanTypes".into(), json!(["DYNAMIC"]));
    doc.insert("scanStatus".into(), json!("SUCCESS"));
    doc.insert("scanErrorCode".into(), Value::Null);
    doc.insert("registryUuid".into(), Value::Null);
    doc.insert("isDockerHubOfficial".into(), json!(false));
    doc.insert("associatedContainersCount".into(), json!(0));
    doc.insert("associatedHostsCount".into(), json!(1));
    doc.insert(
        "host".into(),
        json!([{
            "sensorUuid": sensor_uuid,
            "hostname": format!("ci-runner-{runner:02}"),
            "ipAddress": format!("10.0.3.{host_octet}"),
            "uuid": null,
            "lastUpdated": ms(scanned + 2_000),
        }]),
    );
    doc.insert("riskScore".into(), json!(risk_score));
    doc.insert("maxQdsScore".into(), json!(max_qds));
    doc.insert("qdsSeverity".into(), qds_severity);
    doc.insert("criticality".into(), json!(0));
    doc.insert("baseImage".into(), Value::Null);
    doc.insert("layers".into(), layers);
    doc.insert("vulnerabilities".into(), Value::Array(vulns));
    doc.insert("softwares".into(), Value::Array(softwares));
    mistype_cvss(&mut doc, spec.mistyped_cvss);
    if let Some(code) = &spec.scan_error {
        doc.insert("scanStatus".into(), json!("FAILED"));
        doc.insert("scanErrorCode".into(), json!(code));
        doc.insert("vulnerabilities".into(), Value::Null);
    }
    Value::Object(doc)
}

/// Gives the last `n` findings a wrongly typed CVSS sub-object (see [`ReportSpec::mistyped_cvss`]).
fn mistype_cvss(doc: &mut Map<String, Value>, n: usize) {
    let Some(Value::Array(vulns)) = doc.get_mut("vulnerabilities") else {
        return;
    };
    let len = vulns.len();
    for (k, v) in vulns.iter_mut().skip(len.saturating_sub(n)).enumerate() {
        let Some(o) = v.as_object_mut() else { continue };
        let v2 = o
            .get("cvssInfo")
            .and_then(|c| c.get("baseScore"))
            .and_then(Value::as_str)
            .unwrap_or("5.0")
            .to_owned();
        let v3 = o
            .get("cvss3Info")
            .and_then(|c| c.get("baseScore"))
            .and_then(Value::as_str)
            .unwrap_or("7.5")
            .to_owned();
        let num = |s: &str| s.parse::<f64>().map_or(Value::Null, |f| json!(f));
        match k % 3 {
            0 => {
                o.insert("cvssInfo".into(), json!(v2));
            }
            1 => {
                o.insert("cvss3Info".into(), num(&v3));
            }
            _ => {
                o.insert("cvssInfo".into(), num(&v2));
                o.insert("cvss3Info".into(), json!(format!("CVSS:3.1/{v3}")));
            }
        }
    }
}

/// `round(n * share)`, never more than `n` (`share` is clamped to 0..=1).
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "counts far below 2^52; the result is clamped to 0..=n"
)]
fn share_of(n: usize, share: f64) -> usize {
    ((n as f64) * share.clamp(0.0, 1.0)).round().min(n as f64) as usize
}

fn ms(t: u64) -> Value {
    Value::String(t.to_string())
}

fn layer(
    size: u64,
    created_by: &str,
    created: u64,
    sha: Option<&str>,
    number: u32,
    is_base: Option<bool>,
) -> Value {
    json!({
        "size": size.to_string(),
        "createdBy": created_by,
        "created": ms(created),
        "comment": "",
        "id": null,
        "sha": sha,
        "tags": null,
        "layerNumber": number,
        "isBaseLayer": is_base,
    })
}

/// The `i`-th name: first the real names, then synthetic ones made by `synth(n)`.
fn pick_name(real: &[&str], i: usize, synth: impl Fn(usize) -> String) -> String {
    real.get(i)
        .map_or_else(|| synth(i - real.len()), |s| (*s).to_owned())
}

/// Real installed and fixed versions of well-known packages on each base, so that reports
/// read like the real thing (and policies such as `openssl-libs=1\.1\..*` have something to
/// match).
fn known_version(base: Base, name: &str) -> Option<(&'static str, &'static str)> {
    let table: &[(&str, &str, &str)] = match base {
        Base::Debian => &[
            ("libc6", "2.36-9+deb12u3", "2.36-9+deb12u7"),
            ("libc-bin", "2.36-9+deb12u3", "2.36-9+deb12u7"),
            ("libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1"),
            ("openssl", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1"),
            ("bash", "5.2.15-2+b2", "5.2.15-2+b7"),
            ("zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1"),
            ("libcurl4", "7.88.1-10+deb12u4", "7.88.1-10+deb12u7"),
            ("curl", "7.88.1-10+deb12u4", "7.88.1-10+deb12u7"),
            ("libexpat1", "2.5.0-1", "2.5.0-1+deb12u1"),
            (
                "libxml2",
                "2.9.14+dfsg-1.3~deb12u1",
                "2.9.14+dfsg-1.3~deb12u2",
            ),
            ("perl-base", "5.36.0-7+deb12u1", "5.36.0-7+deb12u2"),
            ("tar", "1.34+dfsg-1.2+deb12u1", "1.34+dfsg-1.2+deb12u2"),
            ("libsystemd0", "252.19-1~deb12u1", "252.30-1~deb12u2"),
            ("libgnutls30", "3.7.9-2+deb12u1", "3.7.9-2+deb12u3"),
        ],
        Base::Ubuntu => &[
            ("libc6", "2.35-0ubuntu3.6", "2.35-0ubuntu3.8"),
            ("libc-bin", "2.35-0ubuntu3.6", "2.35-0ubuntu3.8"),
            ("libssl3", "3.0.2-0ubuntu1.12", "3.0.2-0ubuntu1.14"),
            ("openssl", "3.0.2-0ubuntu1.12", "3.0.2-0ubuntu1.14"),
            ("bash", "5.1-6ubuntu1", "5.1-6ubuntu1.1"),
            (
                "zlib1g",
                "1:1.2.11.dfsg-2ubuntu9.2",
                "1:1.2.11.dfsg-2ubuntu9.3",
            ),
            ("libcurl4", "7.81.0-1ubuntu1.15", "7.81.0-1ubuntu1.16"),
            ("curl", "7.81.0-1ubuntu1.15", "7.81.0-1ubuntu1.16"),
            ("libexpat1", "2.4.7-1ubuntu0.2", "2.4.7-1ubuntu0.3"),
            (
                "libxml2",
                "2.9.13+dfsg-1ubuntu0.3",
                "2.9.13+dfsg-1ubuntu0.4",
            ),
            ("perl-base", "5.34.0-3ubuntu1.2", "5.34.0-3ubuntu1.3"),
            (
                "tar",
                "1.34+dfsg-1ubuntu0.1.22.04.1",
                "1.34+dfsg-1ubuntu0.1.22.04.2",
            ),
            ("libsystemd0", "249.11-0ubuntu3.11", "249.11-0ubuntu3.12"),
            ("libgnutls30", "3.7.3-4ubuntu1.3", "3.7.3-4ubuntu1.4"),
        ],
        Base::Alpine => &[
            ("musl", "1.2.4_git20230717-r4", "1.2.4_git20230717-r5"),
            ("busybox", "1.36.1-r15", "1.36.1-r20"),
            ("busybox-binsh", "1.36.1-r15", "1.36.1-r20"),
            ("libcrypto3", "3.1.4-r2", "3.1.4-r5"),
            ("libssl3", "3.1.4-r2", "3.1.4-r5"),
            ("zlib", "1.3-r2", "1.3.1-r0"),
            ("apk-tools", "2.14.0-r5", "2.14.4-r0"),
            ("libcurl", "8.5.0-r0", "8.9.0-r0"),
            ("curl", "8.5.0-r0", "8.9.0-r0"),
            ("libexpat", "2.5.0-r2", "2.6.2-r0"),
            ("libxml2", "2.11.6-r0", "2.11.7-r0"),
        ],
        Base::Rhel => &[
            ("glibc", "2.28-225.el8", "2.28-225.el8_8.6"),
            ("glibc-common", "2.28-225.el8", "2.28-225.el8_8.6"),
            ("openssl-libs", "1.1.1k-7.el8_6", "1.1.1k-12.el8_9"),
            ("openssl", "1.1.1k-7.el8_6", "1.1.1k-12.el8_9"),
            ("bash", "4.4.20-4.el8_6", "4.4.20-5.el8"),
            ("zlib", "1.2.11-20.el8", "1.2.11-25.el8"),
            ("libcurl-minimal", "7.61.1-30.el8_8.2", "7.61.1-33.el8_9.5"),
            ("curl-minimal", "7.61.1-30.el8_8.2", "7.61.1-33.el8_9.5"),
            ("expat", "2.2.5-11.el8", "2.2.5-11.el8_9.1"),
            ("libxml2", "2.9.7-16.el8_8.1", "2.9.7-18.el8_9"),
            ("systemd-libs", "239-74.el8_8.2", "239-78.el8"),
            ("rpm", "4.14.3-26.el8", "4.14.3-28.el8_9"),
        ],
        Base::Rocky => &[
            ("glibc", "2.34-83.el9_3.7", "2.34-83.el9_3.12"),
            ("openssl-libs", "3.0.7-24.el9", "3.0.7-25.el9_3"),
            ("openssl", "3.0.7-24.el9", "3.0.7-25.el9_3"),
            ("bash", "5.1.8-6.el9_1", "5.1.8-9.el9"),
            ("zlib", "1.2.11-40.el9", "1.2.11-41.el9"),
            ("libcurl-minimal", "7.76.1-26.el9_3.2", "7.76.1-26.el9_3.3"),
            ("curl-minimal", "7.76.1-26.el9_3.2", "7.76.1-26.el9_3.3"),
            ("expat", "2.5.0-1.el9", "2.5.0-2.el9_4"),
            ("libxml2", "2.9.13-5.el9_3", "2.9.13-6.el9_4"),
        ],
        Base::Amazon => &[
            ("glibc", "2.26-63.amzn2", "2.26-64.amzn2.0.2"),
            (
                "openssl-libs",
                "1:1.0.2k-24.amzn2.0.10",
                "1:1.0.2k-24.amzn2.0.12",
            ),
            ("bash", "4.2.46-34.amzn2", "4.2.46-34.amzn2.0.1"),
            ("zlib", "1.2.7-19.amzn2.0.2", "1.2.7-19.amzn2.0.3"),
            ("libcurl-minimal", "8.3.0-1.amzn2.0.5", "8.3.0-1.amzn2.0.7"),
            ("curl-minimal", "8.3.0-1.amzn2.0.5", "8.3.0-1.amzn2.0.7"),
            ("expat", "2.1.0-15.amzn2.0.2", "2.1.0-15.amzn2.0.3"),
        ],
    };
    table
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, v, f)| (*v, *f))
}

/// An installed version in the distribution's style and a later fixed version.
fn os_version(rng: &mut ChaCha8Rng, base: Base) -> (String, String) {
    let major = rng.random_range(0..10u32);
    let minor = rng.random_range(0..40u32);
    let patch = rng.random_range(0..20u32);
    let upstream = if rng.random_bool(0.7) {
        format!("{major}.{minor}.{patch}")
    } else {
        format!("{major}.{minor}")
    };
    let rev = rng.random_range(1..12u32);
    let build = rng.random_range(1..15u32);
    let bump = rng.random_range(1..4u32);
    match base {
        Base::Debian => (
            format!("{upstream}-{rev}+deb12u{build}"),
            format!("{upstream}-{rev}+deb12u{}", build + bump),
        ),
        Base::Ubuntu => (
            format!("{upstream}-{rev}ubuntu1.{build}"),
            format!("{upstream}-{rev}ubuntu1.{}", build + bump),
        ),
        Base::Alpine => (
            format!("{upstream}-r{build}"),
            format!("{upstream}-r{}", build + bump),
        ),
        Base::Rhel => {
            let letter = char::from(b'a' + rng.random_range(0..12u8));
            let up = if rng.random_bool(0.2) {
                format!("{upstream}{letter}")
            } else {
                upstream
            };
            (
                format!("{up}-{build}.el8_6"),
                format!("{up}-{}.el8_{}", build + bump, 6 + bump),
            )
        }
        Base::Rocky => (
            format!("{upstream}-{build}.el9_3"),
            format!("{upstream}-{}.el9_{}", build + bump, 3 + bump),
        ),
        Base::Amazon => (
            format!("{upstream}-{rev}.amzn2.0.{build}"),
            format!("{upstream}-{rev}.amzn2.0.{}", build + bump),
        ),
    }
}

fn semver_pair(rng: &mut ChaCha8Rng) -> (String, String) {
    let major = rng.random_range(1..6u32);
    let minor = rng.random_range(0..30u32);
    let patch = rng.random_range(0..15u32);
    let fixed = if rng.random_bool(0.6) {
        format!("{major}.{minor}.{}", patch + rng.random_range(1..5u32))
    } else {
        format!("{major}.{}.0", minor + 1)
    };
    (format!("{major}.{minor}.{patch}"), fixed)
}

/// Severity 1..5 with a realistic skew: mostly 3 and 4, few 5s.
fn severity(rng: &mut ChaCha8Rng) -> u8 {
    match rng.random_range(0..100u32) {
        0..=9 => 1,
        10..=29 => 2,
        30..=64 => 3,
        65..=89 => 4,
        _ => 5,
    }
}

fn score(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    let x = lo + rng.random::<f64>() * (hi - lo);
    (x * 10.0).round() / 10.0
}

fn vulnerability(
    rng: &mut ChaCha8Rng,
    spec: &ReportSpec,
    qid: u64,
    pkg: Option<&Package>,
    layer_sha: &str,
    log4shell: bool,
) -> Value {
    let base = spec.base;
    let sev = if log4shell { 5 } else { severity(rng) };
    let (v3_lo, v3_hi, v2_lo, v2_hi) = match sev {
        1 => (0.1, 3.9, 0.1, 2.9),
        2 => (2.0, 4.9, 1.2, 4.3),
        3 => (4.0, 6.9, 2.6, 6.8),
        4 => (7.0, 8.9, 5.0, 8.5),
        _ => (9.0, 10.0, 7.5, 10.0),
    };
    let v3 = if log4shell {
        10.0
    } else {
        score(rng, v3_lo, v3_hi)
    };
    let v2 = if log4shell {
        9.3
    } else {
        score(rng, v2_lo, v2_hi)
    };
    let v3t = ((v3 * rng.random_range(0.85..0.97)) * 10.0).round() / 10.0;
    let v2t = ((v2 * rng.random_range(0.8..0.95)) * 10.0).round() / 10.0;
    let vector = *["Network", "Network", "Network", "Adjacent Network", "Local"]
        .choose(rng)
        .unwrap_or(&"Network");
    let typ = if !log4shell && rng.random_bool(spec.potential_share.clamp(0.0, 1.0)) {
        "POTENTIAL"
    } else {
        "CONFIRMED"
    };
    let patch = log4shell || rng.random_bool(spec.patchable_share.clamp(0.0, 1.0));
    let published_year = rng.random_range(2016..2025u32);
    let published = 1_451_606_400_000u64
        + u64::from(published_year - 2016) * 31_536_000_000
        + rng.random_range(0..31_536_000_000u64);
    let cveids: Vec<String> = if log4shell {
        vec!["CVE-2021-44228".into(), "CVE-2021-45046".into()]
    } else if rng.random_bool(0.05) {
        Vec::new()
    } else {
        let n = match rng.random_range(0..10u32) {
            0..=5 => 1,
            6..=8 => 2,
            _ => rng.random_range(3..6),
        };
        (0..n)
            .map(|_| {
                let y = published_year.saturating_sub(rng.random_range(0..2u32));
                format!("CVE-{y}-{}", rng.random_range(1000..52_000u32))
            })
            .collect()
    };
    let qds: u32 = match sev {
        1 => rng.random_range(5..25),
        2 => rng.random_range(15..40),
        3 => rng.random_range(30..70),
        4 => rng.random_range(50..90),
        _ => rng.random_range(70..101),
    };
    let qds = if log4shell { 100 } else { qds };
    let hot = f64::from(sev) / 5.0;
    let mut flag = |p: f64| -> Value {
        if log4shell || rng.random_bool((p * hot).clamp(0.0, 1.0)) {
            Value::Bool(true)
        } else {
            Value::Null
        }
    };
    let mut threat = Map::new();
    for (k, p) in [
        ("activeAttacks", 0.12),
        ("zeroDay", 0.03),
        ("publicExploit", 0.35),
        ("easyExploit", 0.3),
        ("exploitKit", 0.06),
        ("malware", 0.06),
        ("denialOfService", 0.3),
        ("highLateralMovement", 0.08),
        ("highDataLoss", 0.1),
        ("ransomware", 0.04),
    ] {
        threat.insert(k.to_owned(), flag(p));
    }
    threat.insert(
        "noPatch".to_owned(),
        if patch {
            Value::Null
        } else {
            Value::Bool(true)
        },
    );

    let (title, category, product, vendor, result, software) = match pkg {
        Some(p) => {
            let fix = if patch {
                Value::String(p.fix.clone())
            } else {
                Value::Null
            };
            let required = if patch { p.fix.as_str() } else { "-" };
            let (title, category, product, vendor) = match p.eco {
                Eco::Os => (
                    os_title(rng, base, &p.name),
                    base.category().to_owned(),
                    base.product().to_owned(),
                    base.vendor().to_owned(),
                ),
                eco => {
                    let short = p.name.rsplit(':').next().unwrap_or(&p.name).to_owned();
                    let lang = match eco {
                        Eco::Java => "Java",
                        Eco::Python => "Python",
                        _ => "Node.js",
                    };
                    let title = if log4shell {
                        "Java Log4j Remote Code Execution Vulnerability (Log4Shell)".to_owned()
                    } else {
                        let what = [
                            "Remote Code Execution",
                            "Denial of Service (DoS)",
                            "Information Disclosure",
                            "Cross-Site Scripting (XSS)",
                            "Prototype Pollution",
                            "Path Traversal",
                            "Server-Side Request Forgery (SSRF)",
                            "Regular Expression Denial of Service (ReDoS)",
                        ]
                        .choose(rng)
                        .copied()
                        .unwrap_or("Security");
                        format!("{lang} {short} {what} Vulnerability")
                    };
                    let vendor = match eco {
                        Eco::Java => p
                            .name
                            .split(':')
                            .next()
                            .and_then(|g| g.split('.').nth(1))
                            .unwrap_or("apache")
                            .to_owned(),
                        _ => short.clone(),
                    };
                    (title, "Local".to_owned(), short, vendor)
                }
            };
            let result = match &p.path {
                Some(install_path) => format!(
                    "#table cols=\"4\"\nPackage Installed_Version Required_Version Install_Path\n{} {} {} {}",
                    p.name, p.version, required, install_path
                ),
                None => format!(
                    "#table cols=\"3\"\nPackage Installed_Version Required_Version\n{} {} {}",
                    p.name, p.version, required
                ),
            };
            let software = json!([{
                "name": p.name,
                "version": p.version,
                "fixVersion": fix,
                "packagePath": p.path,
                "scanType": "DYNAMIC",
            }]);
            (title, category, product, vendor, result, software)
        }
        None => (
            format!("{} Security Update (QID {qid})", base.category()),
            base.category().to_owned(),
            base.product().to_owned(),
            base.vendor().to_owned(),
            String::new(),
            json!([]),
        ),
    };
    let scanned = ms(spec.scanned_at_ms);
    let mut v = Map::new();
    v.insert("qid".into(), json!(qid));
    v.insert("title".into(), json!(title));
    v.insert("result".into(), json!(result));
    v.insert("severity".into(), json!(sev));
    v.insert("customerSeverity".into(), json!(sev));
    v.insert("qdsScore".into(), json!(qds));
    v.insert(
        "cvssInfo".into(),
        json!({ "baseScore": format!("{v2:.1}"), "temporalScore": format!("{v2t:.1}"), "accessVector": vector }),
    );
    v.insert(
        "cvss3Info".into(),
        json!({ "baseScore": format!("{v3:.1}"), "temporalScore": format!("{v3t:.1}") }),
    );
    v.insert("patchAvailable".into(), json!(patch));
    v.insert("published".into(), json!(published));
    v.insert("port".into(), Value::Null);
    v.insert("status".into(), Value::Null);
    v.insert("risk".into(), json!(u32::from(sev) * 20));
    v.insert("category".into(), json!(category));
    v.insert("discoveryType".into(), json!(["AUTHENTICATED"]));
    v.insert("authType".into(), json!(["UNIX_AUTH"]));
    v.insert("supportedBy".into(), json!(["VM", "CA-Linux Agent"]));
    v.insert("product".into(), json!([product]));
    v.insert("vendor".into(), json!([vendor]));
    v.insert("cveids".into(), json!(cveids));
    v.insert("threatIntel".into(), Value::Object(threat));
    v.insert("software".into(), software);
    v.insert("firstFound".into(), scanned.clone());
    v.insert("lastFound".into(), scanned);
    v.insert("typeDetected".into(), json!(typ));
    v.insert("scanType".into(), json!(["DYNAMIC"]));
    v.insert("layerSha".into(), json!([layer_sha]));
    v.insert("source".into(), Value::Null);
    v.insert("reason".into(), Value::Null);
    v.insert("imageResult".into(), Value::Null);
    v.insert("containerResult".into(), Value::Null);
    v.insert("vulnerability".into(), Value::Null);
    v.insert("isExempted".into(), json!(false));
    v.insert("vendorData".into(), Value::Null);
    Value::Object(v)
}

fn os_title(rng: &mut ChaCha8Rng, base: Base, pkg: &str) -> String {
    let n = rng.random_range(1000..7000u32);
    match base {
        Base::Debian => format!(
            "Debian Security Update for {pkg} (DSA {}-1)",
            n % 1000 + 5000
        ),
        Base::Ubuntu => {
            format!("Ubuntu Security Notification for {pkg} Vulnerabilities (USN-{n}-1)")
        }
        Base::Alpine => format!("Alpine Linux Security Update for {pkg}"),
        Base::Rhel => format!("Red Hat Update for {pkg} (RHSA-2024:{n})"),
        Base::Rocky => format!("Rocky Linux Security Update for {pkg} (RLSA-2024:{n})"),
        Base::Amazon => format!("Amazon Linux Security Advisory for {pkg}: ALAS2-2024-{n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_ms_string(v: &Value) -> bool {
        v.as_str()
            .is_some_and(|s| s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit()))
    }

    #[test]
    fn same_spec_same_document_and_different_seed_differs() {
        let spec = ReportSpec {
            vulnerabilities: 300,
            packages: 200,
            ..ReportSpec::default()
        };
        assert_eq!(generate(&spec), generate(&spec));
        let other = ReportSpec {
            seed: 2,
            ..spec.clone()
        };
        assert_ne!(generate(&spec), generate(&other));
        assert_eq!(generate_sha(7), generate_sha(7));
        assert_ne!(generate_sha(7), generate_sha(8));
    }

    #[test]
    fn exact_counts_unique_qids_and_cross_references() {
        for base in Base::ALL {
            for (nv, np) in [(0, 0), (0, 5), (1, 1), (7, 3), (250, 90), (40, 0)] {
                let spec = ReportSpec {
                    base,
                    vulnerabilities: nv,
                    packages: np,
                    ..ReportSpec::default()
                };
                let doc = generate(&spec);
                let vulns = doc["vulnerabilities"].as_array().expect("array");
                let sw = doc["softwares"].as_array().expect("array");
                assert_eq!(vulns.len(), nv, "{base:?} {nv}/{np}");
                assert_eq!(sw.len(), np, "{base:?} {nv}/{np}");
                let mut qids: Vec<u64> = vulns
                    .iter()
                    .map(|v| v["qid"].as_u64().expect("qid"))
                    .collect();
                qids.sort_unstable();
                qids.dedup();
                assert_eq!(qids.len(), nv, "QIDs are unique");
                // Every softwares[].vulnerabilities qid is one of the image's, and every
                // vulnerability with software is listed under exactly that package.
                let listed: usize = sw
                    .iter()
                    .map(|s| s["vulnerabilities"].as_array().expect("array").len())
                    .sum();
                let with_sw = vulns
                    .iter()
                    .filter(|v| !v["software"].as_array().expect("array").is_empty())
                    .count();
                assert_eq!(listed, with_sw);
                if np > 0 {
                    assert_eq!(with_sw, nv);
                }
            }
        }
    }

    #[test]
    fn field_types_match_the_real_api() {
        let doc = generate(&ReportSpec {
            base: Base::Ubuntu,
            vulnerabilities: 500,
            packages: 150,
            ..ReportSpec::default()
        });
        let sha = doc["sha"].as_str().expect("sha");
        assert_eq!(sha.len(), 64);
        assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(doc["imageId"].as_str(), Some(&sha[..12]));
        for k in [
            "created",
            "updated",
            "lastUsedDate",
            "lastScanned",
            "lastVmScanDate",
        ] {
            assert!(is_ms_string(&doc[k]), "{k} is a string of epoch ms");
        }
        assert!(doc["size"].is_u64());
        assert_eq!(doc["operatingSystem"], "Ubuntu Linux 22.04.4");
        assert_eq!(doc["repo"][0]["tag"], "1.4.2");
        let layers = doc["layers"].as_array().expect("layers");
        assert!(!layers.is_empty());
        let mut total = 0;
        for l in layers {
            let s = l["size"].as_str().expect("layer size is a string");
            total += s.parse::<u64>().expect("digits");
            assert!(l["createdBy"].is_string());
            assert!(is_ms_string(&l["created"]));
        }
        assert_eq!(doc["size"].as_u64(), Some(total));
        let mut sev = [0usize; 6];
        let mut potential = 0;
        for v in doc["vulnerabilities"].as_array().expect("vulns") {
            let s = v["severity"].as_u64().expect("int severity");
            assert!((1..=5).contains(&s));
            sev[usize::try_from(s).expect("small")] += 1;
            assert!(v["qid"].as_u64().expect("int qid") >= 100_000);
            let t = v["typeDetected"].as_str().expect("typeDetected");
            assert!(t == "CONFIRMED" || t == "POTENTIAL");
            potential += usize::from(t == "POTENTIAL");
            for c in v["cveids"].as_array().expect("cveids is an array") {
                let c = c.as_str().expect("string");
                let parts: Vec<&str> = c.split('-').collect();
                assert_eq!(parts[0], "CVE");
                assert_eq!(parts[1].len(), 4);
                assert!(parts[2].len() >= 4);
            }
            for k in ["cvssInfo", "cvss3Info"] {
                let b = v[k]["baseScore"].as_str().expect("baseScore is a string");
                let x: f64 = b.parse().expect("decimal");
                assert!((0.0..=10.0).contains(&x));
                assert!(v[k]["temporalScore"].is_string());
            }
            assert!(v["cvssInfo"]["accessVector"].is_string());
            assert!(v["threatIntel"].is_object());
            for (_, f) in v["threatIntel"].as_object().expect("object") {
                assert!(f.is_null() || f == &Value::Bool(true));
            }
            assert!(v["patchAvailable"].is_boolean());
            assert!(v["published"].is_u64());
            assert!(is_ms_string(&v["firstFound"]) && is_ms_string(&v["lastFound"]));
            let sw = &v["software"][0];
            assert!(sw["name"].is_string() && sw["version"].is_string());
            assert_eq!(
                sw["fixVersion"].is_string(),
                v["patchAvailable"] == Value::Bool(true)
            );
            assert_eq!(v["layerSha"][0].as_str().map(str::len), Some(64));
        }
        // Realistic skew: 3s and 4s dominate, 5s are the minority, and some are POTENTIAL.
        assert!(sev[3] + sev[4] > sev[5] * 3, "{sev:?}");
        assert!(sev[1] > 0 && sev[2] > 0 && sev[5] > 0, "{sev:?}");
        assert!(potential > 10 && potential < 150, "{potential}");
        for s in doc["softwares"].as_array().expect("softwares") {
            assert!(s["name"].is_string());
            assert!(s["version"].is_string());
            assert_eq!(s["scanType"], "DYNAMIC");
            for q in s["vulnerabilities"].as_array().expect("array") {
                assert!(q["qid"].is_u64());
            }
        }
    }

    #[test]
    fn distro_version_styles_and_app_layer() {
        let cases = [
            (Base::Ubuntu, "ubuntu1."),
            (Base::Debian, "+deb12u"),
            (Base::Alpine, "-r"),
            (Base::Rhel, ".el8_"),
            (Base::Amazon, ".amzn2."),
        ];
        for (base, marker) in cases {
            let doc = generate(&ReportSpec {
                base,
                vulnerabilities: 50,
                packages: 60,
                ..ReportSpec::default()
            });
            let sw = doc["softwares"].as_array().expect("softwares");
            let os: Vec<&Value> = sw.iter().filter(|s| s["packagePath"].is_null()).collect();
            assert!(!os.is_empty());
            for s in &os {
                let v = s["version"].as_str().expect("version");
                let name = s["name"].as_str().expect("name");
                if let Some((known, _)) = known_version(base, name) {
                    assert_eq!(v, known);
                } else {
                    assert!(v.contains(marker), "{base:?}: {v}");
                }
            }
            let names: Vec<&str> = sw.iter().filter_map(|s| s["name"].as_str()).collect();
            assert!(names.contains(&"org.apache.logging.log4j:log4j-core"));
            assert!(names.contains(&"requests"));
            assert!(names.contains(&"lodash"));
        }
        // Well-known packages carry their real versions.
        let doc = generate(&ReportSpec {
            base: Base::Rhel,
            ..ReportSpec::default()
        });
        let openssl = doc["softwares"]
            .as_array()
            .expect("softwares")
            .iter()
            .find(|s| s["name"] == "openssl-libs")
            .expect("openssl-libs");
        assert_eq!(openssl["version"], "1.1.1k-7.el8_6");
        // Log4Shell: QID 376209 on log4j-core 2.14.1 with its CVEs.
        let doc = generate(&ReportSpec::default());
        let l4s = doc["vulnerabilities"]
            .as_array()
            .expect("vulns")
            .iter()
            .find(|v| v["qid"] == 376_209)
            .expect("log4shell present");
        assert_eq!(l4s["severity"], 5);
        assert_eq!(l4s["software"][0]["version"], "2.14.1");
        assert_eq!(l4s["software"][0]["fixVersion"], "2.17.1");
        assert_eq!(l4s["cveids"][0], "CVE-2021-44228");
        assert_eq!(l4s["cvss3Info"]["baseScore"], "10.0");
    }

    #[test]
    fn scales_to_twenty_thousand_vulnerabilities() {
        let spec = ReportSpec {
            base: Base::Rhel,
            vulnerabilities: 20_000,
            packages: 3_000,
            ..ReportSpec::default()
        };
        let doc = generate(&spec);
        assert_eq!(
            doc["vulnerabilities"].as_array().map(Vec::len),
            Some(20_000)
        );
        assert_eq!(doc["softwares"].as_array().map(Vec::len), Some(3_000));
        let mut names: Vec<(&str, Option<&str>)> = doc["softwares"]
            .as_array()
            .expect("softwares")
            .iter()
            .map(|s| (s["name"].as_str().expect("name"), s["packagePath"].as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 3_000, "packages (name, path) are unique");
    }

    #[test]
    fn explicit_sha_and_base_parsing() {
        let sha = "ab".repeat(32);
        let doc = generate(&ReportSpec {
            sha: Some(sha.clone()),
            ..ReportSpec::default()
        });
        assert_eq!(doc["sha"], sha.as_str());
        assert_eq!(doc["imageId"], &sha[..12]);
        assert_eq!("RHEL".parse::<Base>(), Ok(Base::Rhel));
        assert!(
            "plan9"
                .parse::<Base>()
                .expect_err("unknown")
                .contains("expected one of")
        );
    }
}
